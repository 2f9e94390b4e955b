// Inline-SVG line charts (see svg_chart.h). Layout in user units: the title on top, the plot area
// inside fixed margins, tick labels and axis labels around it, legend rows below.
#include "analysis/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace sharelab::analysis {

namespace {

constexpr double kLeft = 72, kRight = 20, kTop = 40, kBottom = 52;  // margins around the plot area
constexpr double kLegendRow = 22, kCharWidth = 7;                   // legend layout (12px text)

// Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
// deficiencies. Yellow last: it is faint on white.
const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"};
constexpr int kPaletteSize = 8;

// Sorted finite (x, y) pairs of one curve.
std::vector<std::pair<double, double>> points(const ChartCurve& c) {
  std::vector<std::pair<double, double>> p;
  for (size_t i = 0; i < c.x.size() && i < c.y.size(); ++i)
    if (std::isfinite(c.x[i]) && std::isfinite(c.y[i])) p.push_back({c.x[i], c.y[i]});
  std::stable_sort(p.begin(), p.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return p;
}

// y at x by linear interpolation; x lies within the curve's range.
double interpolate(const std::vector<std::pair<double, double>>& p, double x) {
  auto it = std::lower_bound(p.begin(), p.end(), x, [](const auto& q, double v) { return q.first < v; });
  if (it == p.end()) return p.back().second;
  if (it->first == x || it == p.begin()) return it->second;
  const auto& a = *(it - 1);
  return a.second + (x - a.first) * (it->second - a.second) / (it->first - a.first);
}

// Fewest decimals (up to 6) that print v exactly at a tick step's resolution.
int decimals_for(double step) {
  for (int d = 0; d < 6; ++d) {
    const double s = step * std::pow(10.0, d);
    if (std::fabs(s - std::round(s)) < 1e-6 * std::max(1.0, std::fabs(s))) return d;
  }
  return 6;
}

// Tick labels share one unit suffix (K, M, B) chosen from the largest tick.
std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  double m = 0;
  for (double t : ticks) m = std::max(m, std::fabs(t));
  double div = 1;
  const char* suffix = "";
  if (m >= 1e9)
    div = 1e9, suffix = "B";
  else if (m >= 1e6)
    div = 1e6, suffix = "M";
  else if (m >= 1e4)
    div = 1e3, suffix = "K";
  const double step = ticks.size() > 1 ? (ticks[1] - ticks[0]) / div : 1;
  const int d = decimals_for(step);
  std::vector<std::string> out;
  for (double t : ticks) {
    double v = t / div;
    if (std::fabs(v) < 1e-12 * std::max(1.0, std::fabs(step))) v = 0;  // no "-0"
    out.push_back(fmt::format("{:.{}f}{}", v, d, t == 0 ? "" : suffix));
  }
  return out;
}

std::string num(double v) {
  return fmt::format("{:.1f}", std::fabs(v) < 0.05 ? 0.0 : v);
}

// Code points, for the legend's approximate text width.
size_t text_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string palette_color(int i) {
  return kPalette[((i % kPaletteSize) + kPaletteSize) % kPaletteSize];
}

MeanBand mean_band(const std::vector<ChartCurve>& curves) {
  std::vector<std::vector<std::pair<double, double>>> ps;
  for (const auto& c : curves)
    if (auto p = points(c); !p.empty()) ps.push_back(std::move(p));
  MeanBand b;
  b.n = static_cast<int>(ps.size());
  if (ps.empty()) return b;
  double from = -std::numeric_limits<double>::infinity(), to = std::numeric_limits<double>::infinity();
  for (const auto& p : ps) from = std::max(from, p.front().first), to = std::min(to, p.back().first);
  if (from > to) return b;  // no x range that every seed covers
  for (const auto& p : ps)
    for (const auto& [x, y] : p)
      if (x >= from && x <= to) b.x.push_back(x);
  std::sort(b.x.begin(), b.x.end());
  b.x.erase(std::unique(b.x.begin(), b.x.end()), b.x.end());
  for (double x : b.x) {
    double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& p : ps) {
      const double y = interpolate(p, x);
      sum += y, lo = std::min(lo, y), hi = std::max(hi, y);
    }
    b.mean.push_back(sum / ps.size());
    b.lo.push_back(lo);
    b.hi.push_back(hi);
  }
  return b;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {  // one value: a unit-sized window around it
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.05;
    lo -= pad, hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double f : {1.0, 2.0, 2.5, 5.0})
    if (f * mag >= raw * (1 - 1e-9)) {
      step = f * mag;
      break;
    }
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last + 0.5; k += 1) ticks.push_back(k * step);
  return ticks;
}

std::string svg_line_chart(const ChartSpec& spec) {
  std::vector<MeanBand> bands;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : spec.series) {
    bands.push_back(mean_band(s.curves));
    const MeanBand& b = bands.back();
    for (size_t i = 0; i < b.x.size(); ++i) {
      x0 = std::min(x0, b.x[i]), x1 = std::max(x1, b.x[i]);
      y0 = std::min(y0, b.lo[i]), y1 = std::max(y1, b.hi[i]);
    }
  }
  const bool empty = !(x0 <= x1);
  if (empty) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x0 > 0) x0 = 0;  // x is tokens or seconds: start the axis at 0
  const auto xt = nice_ticks(x0, x1), yt = nice_ticks(y0, y1);
  const double xa = xt.front(), xb = xt.back(), ya = yt.front(), yb = yt.back();
  const double W = spec.width, H = spec.height;
  const double pw = W - kLeft - kRight, ph = H - kTop - kBottom;
  auto sx = [&](double x) { return kLeft + (x - xa) / (xb - xa) * pw; };
  auto sy = [&](double y) { return kTop + ph - (y - ya) / (yb - ya) * ph; };

  // Legend entries flow left to right below the axes, wrapping at the chart's width.
  struct Entry {
    double x, y;
    std::string text;
  };
  std::vector<Entry> legend;
  double lx = kLeft, ly = H + 4;
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    std::string text = s.name;
    if (bands[i].x.empty()) text += " (no points)";
    const double w = 34 + kCharWidth * text_length(text) + 18;
    if (lx + w > W - kRight && lx > kLeft) lx = kLeft, ly += kLegendRow;
    legend.push_back({lx, ly, text});
    lx += w;
  }
  const double total_h = spec.series.empty() ? H : ly + kLegendRow;
  const std::string pre = spec.id.empty() ? "chart" : spec.id;

  std::string o = fmt::format(
      "<svg class=\"chart\" role=\"img\" aria-labelledby=\"{0}-title\" width=\"{1}\" height=\"{2}\" "
      "viewBox=\"0 0 {1} {2}\" font-family=\"sans-serif\" font-size=\"12\">\n",
      xml_escape(pre), W, num(total_h));
  o += fmt::format("<title id=\"{}-title\">{}</title>\n", xml_escape(pre), xml_escape(spec.title));
  o += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", W, num(total_h));
  o += fmt::format("<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                   num(W / 2), xml_escape(spec.title));
  // Grid and tick labels.
  o += "<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (double t : xt)
    o += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(sx(t)), num(kTop), num(kTop + ph));
  for (double t : yt)
    o += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>\n", num(kLeft), num(sy(t)), num(kLeft + pw));
  o += "</g>\n<g class=\"ticks\" fill=\"#333333\">\n";
  const auto xl = tick_labels(xt), yl = tick_labels(yt);
  for (size_t i = 0; i < xt.size(); ++i)
    o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(sx(xt[i])), num(kTop + ph + 16),
                     xl[i]);
  for (size_t i = 0; i < yt.size(); ++i)
    o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(kLeft - 6), num(sy(yt[i]) + 4),
                     yl[i]);
  o += "</g>\n";
  o += fmt::format("<path class=\"axes\" d=\"M{0},{1} V{2} H{3}\" fill=\"none\" stroke=\"#333333\"/>\n", num(kLeft),
                   num(kTop), num(kTop + ph), num(kLeft + pw));
  o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(kLeft + pw / 2), num(H - 10),
                   xml_escape(spec.x_label));
  o += fmt::format("<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                   num(kTop + ph / 2), xml_escape(spec.y_label));
  if (empty)
    o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666666\">no data</text>\n",
                     num(kLeft + pw / 2), num(kTop + ph / 2));

  // Bands first, then the mean lines over them.
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    const MeanBand& b = bands[i];
    if (b.n < 2 || b.x.size() < 2) continue;  // one seed: the line only
    std::string d;
    for (size_t k = 0; k < b.x.size(); ++k)
      d += fmt::format("{}{},{}", k ? " L" : "M", num(sx(b.x[k])), num(sy(b.hi[k])));
    for (size_t k = b.x.size(); k-- > 0;) d += fmt::format(" L{},{}", num(sx(b.x[k])), num(sy(b.lo[k])));
    o += fmt::format(
        "<path class=\"band\" d=\"{} Z\" fill=\"{}\" fill-opacity=\"0.2\" stroke=\"none\"><title>{}: min to "
        "max over {} seeds</title></path>\n",
        d, palette_color(s.color), xml_escape(s.name), b.n);
  }
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    const MeanBand& b = bands[i];
    if (b.x.empty()) continue;
    const std::string color = palette_color(s.color);
    const std::string dash = s.color >= kPaletteSize ? " stroke-dasharray=\"6 3\"" : "";
    const std::string what = b.n > 1 ? fmt::format("{}: mean over {} seeds", s.name, b.n) : s.name;
    std::string d;
    for (size_t k = 0; k < b.x.size(); ++k)
      d += fmt::format("{}{},{}", k ? " L" : "M", num(sx(b.x[k])), num(sy(b.mean[k])));
    o += fmt::format("<g class=\"series\" stroke=\"{}\" fill=\"{}\">\n", color, color);
    if (b.x.size() > 1)
      o += fmt::format("<path class=\"mean\" d=\"{}\" fill=\"none\" stroke-width=\"2\"{}><title>{}</title></path>\n", d,
                       dash, xml_escape(what));
    if (b.x.size() <= 40)  // markers at the validation points while they stay readable
      for (size_t k = 0; k < b.x.size(); ++k)
        o += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" stroke=\"none\"/>\n", num(sx(b.x[k])),
                         num(sy(b.mean[k])), b.x.size() == 1 ? 4 : 2.5);
    o += "</g>\n";
  }
  // Legend: a band swatch behind a line, then the name.
  o += "<g class=\"legend\">\n";
  for (size_t i = 0; i < legend.size(); ++i) {
    const auto& e = legend[i];
    const std::string color = palette_color(spec.series[i].color);
    const std::string dash = spec.series[i].color >= kPaletteSize ? " stroke-dasharray=\"6 3\"" : "";
    o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"26\" height=\"12\" fill=\"{}\" fill-opacity=\"0.2\"/>", num(e.x),
                     num(e.y + 2), color);
    o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>", num(e.x),
                     num(e.y + 8), num(e.x + 26), num(e.y + 8), color, dash);
    o += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", num(e.x + 32), num(e.y + 12), xml_escape(e.text));
  }
  o += "</g>\n</svg>\n";
  return o;
}

}  // namespace sharelab::analysis
