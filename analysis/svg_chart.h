// A small inline-SVG line chart for the HTML report: per series (one arm) the mean over its seeds
// and a translucent min-max band, axes with nice ticks, a legend. Deterministic text (fixed number
// formatting, no clocks) meant to sit inside an HTML5 page: no xmlns and no URL of any kind, the
// HTML parser puts <svg> in the SVG namespace itself.
#pragma once

#include <string>
#include <vector>

namespace sharelab::analysis {

struct ChartCurve {
  std::vector<double> x, y;  // one seed; same length, any order (sorted by x when drawn)
};

struct ChartSeries {
  std::string name;                // legend text
  int color = 0;                   // index into the palette (Okabe-Ito; dashed past its 8 colours)
  std::vector<ChartCurve> curves;  // one per seed
};

struct ChartSpec {
  std::string id;  // element id prefix ("" = none); [A-Za-z0-9_-] only
  std::string title, x_label, y_label;
  std::vector<ChartSeries> series;
  int width = 720, height = 420;  // of the plot and axes; the legend adds rows below
};

// `<svg ...>...</svg>`; a series without points is listed in the legend as "(no points)".
std::string svg_line_chart(const ChartSpec& spec);

// --- Parts, exposed for tests ----------------------------------------------------------------

// Mean and min..max over seeds on a common grid: the union of the seeds' x values within the range
// every seed covers, each seed linearly interpolated there. Empty when the seeds share no x range.
struct MeanBand {
  int n = 0;  // seeds with at least one point
  std::vector<double> x, mean, lo, hi;
};
MeanBand mean_band(const std::vector<ChartCurve>& curves);

// About `target` round ticks (1, 2, 2.5 or 5 x 10^k apart) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// The palette colour of index i ("#0072B2", ...).
std::string palette_color(int i);

// & < > " ' as entities: safe in element text and in double- or single-quoted attributes.
std::string xml_escape(const std::string& s);

}  // namespace sharelab::analysis
