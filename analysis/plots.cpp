// gnuplot driving: data blocks + a script per figure, images written under a temporary name and
// renamed once gnuplot succeeded.
#include "analysis/plots.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "common/errors.h"

namespace sharelab::analysis {

namespace fs = std::filesystem;

namespace {

struct Curve {
  std::string title;
  std::vector<double> tokens, wall_s, loss;  // wall_s empty when it cannot be derived
  bool wall_pro_rata = false;                // wall_s scaled from the run total, not integrated
};

// Wall-clock seconds at each validation point: integrate the logged training throughput
// (delta tokens / tokens_per_s between train points), else scale the run's total wall_s by tokens.
std::vector<double> wall_times(const std::vector<store::SeriesPoint>& train, const std::vector<double>& at_tokens,
                               std::optional<double> wall_total, std::optional<double> tokens_total, bool& pro_rata) {
  pro_rata = false;
  std::vector<std::pair<double, double>> knots{{0.0, 0.0}};  // (tokens, seconds)
  bool ok = !train.empty();
  for (const auto& p : train) {
    if (p.tokens_per_s <= 0) {
      ok = false;
      break;
    }
    const double dt = (p.tokens - knots.back().first) / p.tokens_per_s;
    if (p.tokens > knots.back().first) knots.push_back({p.tokens, knots.back().second + dt});
  }
  std::vector<double> out;
  if (ok && knots.size() > 1) {
    for (double x : at_tokens) {
      auto it = std::lower_bound(knots.begin(), knots.end(), std::make_pair(x, -1.0));
      if (it == knots.end()) {  // past the last train point: extrapolate at the last rate
        const auto& a = knots[knots.size() - 2];
        const auto& b = knots.back();
        out.push_back(b.second + (x - b.first) * (b.second - a.second) / (b.first - a.first));
      } else if (it == knots.begin()) {
        out.push_back(0.0);
      } else {
        const auto& a = *(it - 1);
        const auto& b = *it;
        out.push_back(a.second + (x - a.first) * (b.second - a.second) / (b.first - a.first));
      }
    }
    return out;
  }
  if (wall_total && tokens_total && *tokens_total > 0) {
    pro_rata = true;
    for (double x : at_tokens) out.push_back(*wall_total * x / *tokens_total);
  }
  return out;
}

std::string gp_quote(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out += c;
  }
  return "'" + out + "'";
}

// Runs gnuplot on `script`; returns false with its exit status on stderr.
void run_gnuplot(const std::string& exe, const std::string& script) {
  const std::string cmd = exe + " " + gp_quote(script) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) throw std::runtime_error(fmt::format("gnuplot failed (status {}) on {}", rc, script));
}

void draw(const std::vector<Curve>& curves, bool wall, const std::string& stem, const std::string& title,
          const PlotOptions& opt, std::vector<std::string>& written) {
  double max_x = 0;
  bool pro_rata = false;
  for (const auto& c : curves) {
    for (double x : wall ? c.wall_s : c.tokens) max_x = std::max(max_x, x);
    pro_rata = pro_rata || c.wall_pro_rata;
  }
  const std::string how = pro_rata ? "derived per run" : "from logged tokens/s";
  // Axis unit chosen from the range so tick labels stay short.
  double div = 1;
  std::string xlabel;
  if (wall) {
    if (max_x > 7200)
      div = 3600, xlabel = "training wall-clock time (hours, " + how + ")";
    else if (max_x > 120)
      div = 60, xlabel = "training wall-clock time (minutes, " + how + ")";
    else
      xlabel = "training wall-clock time (seconds, " + how + ")";
  } else {
    if (max_x >= 1e9)
      div = 1e9, xlabel = "training tokens (billions)";
    else if (max_x >= 1e6)
      div = 1e6, xlabel = "training tokens (millions)";
    else if (max_x >= 1e3)
      div = 1e3, xlabel = "training tokens (thousands)";
    else
      xlabel = "training tokens";
  }
  const fs::path base = fs::path(opt.out_dir) / stem;
  std::string dat;
  std::string plot = "plot ";
  int index = 0;
  for (const auto& c : curves) {
    const auto& xs = wall ? c.wall_s : c.tokens;
    if (xs.empty()) continue;
    dat += fmt::format("# {}\n", c.title);
    for (size_t i = 0; i < xs.size(); ++i) dat += fmt::format("{:.6g} {:.6f}\n", xs[i] / div, c.loss[i]);
    dat += "\n\n";
    plot += fmt::format("{}{} index {} using 1:2 with linespoints ls {} title {}", index ? ", \\\n     " : "",
                        gp_quote(base.string() + ".dat"), index, index % 8 + 1, gp_quote(c.title));
    ++index;
  }
  if (index == 0) return;
  std::ofstream(base.string() + ".dat") << dat;
  const std::string style =
      "set title " + gp_quote(title) + " noenhanced\nset xlabel " + gp_quote(xlabel) +
      "\nset ylabel 'validation loss (nats per token)'\nset key top right box opaque noenhanced\nset grid\n"
      "set border 3\nset tics nomirror\nset xrange [0:*]\n"
      "set style line 1 lc rgb '#1b9e77' lw 2 pt 7 ps 0.6\nset style line 2 lc rgb '#d95f02' lw 2 pt 5 ps 0.6\n"
      "set style line 3 lc rgb '#7570b3' lw 2 pt 9 ps 0.7\nset style line 4 lc rgb '#e7298a' lw 2 pt 11 ps 0.7\n"
      "set style line 5 lc rgb '#66a61e' lw 2 pt 13 ps 0.7\nset style line 6 lc rgb '#e6ab02' lw 2 pt 4 ps 0.6\n"
      "set style line 7 lc rgb '#a6761d' lw 2 pt 6 ps 0.6\nset style line 8 lc rgb '#666666' lw 2 pt 8 ps 0.6\n";
  std::string script = "# generated by analysis — do not edit\n" + style;
  for (const auto& [term, ext] : {std::pair<std::string, std::string>{"pngcairo size 1200,750 font 'Sans,12'", "png"},
                                  {"svg size 1200,750 dynamic font 'Sans,12' background rgb 'white'", "svg"}}) {
    const std::string tmp = base.string() + ".tmp." + ext;
    script += "set terminal " + term + "\nset output " + gp_quote(tmp) + "\n" + plot + "\nunset output\n";
  }
  const std::string gp = base.string() + ".gp";
  std::ofstream(gp) << script;
  run_gnuplot(opt.gnuplot, gp);
  for (const char* ext : {"png", "svg"}) {
    const std::string tmp = base.string() + ".tmp." + ext, fin = base.string() + "." + ext;
    if (!fs::exists(tmp) || fs::file_size(tmp) == 0) throw std::runtime_error("gnuplot wrote no " + tmp);
    fs::rename(tmp, fin);
    written.push_back(fin);
  }
}

}  // namespace

bool gnuplot_available(const std::string& exe) {
  const std::string cmd = exe + " --version > /dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::vector<std::string> plot_validation(store::ResultsStore& db, const PlotOptions& opt) {
  auto runs = db.runs(opt.sweep);
  std::sort(runs.begin(), runs.end(), [](const store::RunRow& a, const store::RunRow& b) {
    return std::tie(a.sweep, a.name, a.run_id) < std::tie(b.sweep, b.name, b.run_id);
  });
  std::vector<Curve> curves;
  std::vector<std::string> scales, devices;
  for (const auto& r : runs) {
    auto val = db.series(r.run_id, "val");
    if (val.empty()) {
      std::cerr << "analysis plot: run " << r.name << " (" << r.run_id << ") has no validation points; left out\n";
      continue;
    }
    std::sort(val.begin(), val.end(), [](auto& a, auto& b) { return a.tokens < b.tokens; });
    auto train = db.series(r.run_id, "train");
    std::sort(train.begin(), train.end(), [](auto& a, auto& b) { return a.tokens < b.tokens; });
    const auto scalars = db.scalars(r.run_id);
    auto get = [&](const char* k) -> std::optional<double> {
      auto it = scalars.find(k);
      return it == scalars.end() ? std::nullopt : std::optional<double>(it->second);
    };
    Curve c;
    c.title = fmt::format("{} (scheme {}{})", r.name, r.scheme.empty() ? "?" : r.scheme,
                          r.status == "finished" ? "" : ", " + r.status);
    for (const auto& p : val) c.tokens.push_back(p.tokens), c.loss.push_back(p.loss);
    c.wall_s = wall_times(train, c.tokens, get("wall_s"), get("tokens"), c.wall_pro_rata);
    curves.push_back(std::move(c));
    if (std::find(scales.begin(), scales.end(), r.scale) == scales.end()) scales.push_back(r.scale);
    if (std::find(devices.begin(), devices.end(), r.device) == devices.end()) devices.push_back(r.device);
  }
  if (curves.empty())
    throw ConfigError("analysis plot: no run " + (opt.sweep.empty() ? "" : "of sweep '" + opt.sweep + "' ") + "in " +
                      db.path() + " has validation-loss points");
  auto join = [](std::vector<std::string> v) {
    for (auto& s : v)
      if (s.empty()) s = "?";
    return fmt::format("{}", fmt::join(v, ", "));
  };
  fs::create_directories(opt.out_dir);
  const std::string name = opt.sweep.empty() ? "all" : opt.sweep;
  const std::string what = fmt::format("sweep {} (scale {}; {})", name, join(scales), join(devices));
  std::vector<std::string> written;
  draw(curves, false, "val_loss_" + name + "_tokens", "Validation loss vs training tokens: " + what, opt, written);
  draw(curves, true, "val_loss_" + name + "_wall", "Validation loss vs wall-clock time: " + what, opt, written);
  return written;
}

}  // namespace sharelab::analysis
