// Paired-by-seed comparison of two arms of a sweep (see compare.h).
#include "analysis/compare.h"

#include <fmt/format.h>

#include "common/errors.h"

namespace sharelab::analysis {

namespace {

std::string scalar_key(const std::string& metric) {
  if (metric == "val_loss" || metric == "train_loss") return "final_" + metric;
  return metric;
}

std::optional<double> metric_of(const RunData& r, const std::string& metric) {
  const auto slash = metric.find('/');
  if (slash == std::string::npos) return scalar(r, scalar_key(metric));
  const std::string task = metric.substr(0, slash), name = metric.substr(slash + 1);
  std::optional<double> v;
  for (const auto& e : r.evals)  // the last row of (task, metric) is the latest evaluation
    if (e.task == task && e.metric == name) v = e.value;
  return v;
}

}  // namespace

Arm load_arm(const DbView& v, const std::string& arm, const std::string& metric) {
  Arm a;
  a.name = arm;
  const auto runs = find_runs(v, arm);
  if (runs.empty())
    throw ConfigError(fmt::format("{}: no finished run named or of preset '{}' in sweep '{}'", v.path, arm,
                                  v.sweep.empty() ? "(any)" : v.sweep));
  std::vector<double> xs;
  for (const RunData* r : runs) {
    const auto value = metric_of(*r, metric);
    if (!value)
      throw ConfigError(fmt::format("run {} ({}): no metric '{}' (a run scalar such as final_val_loss, or task/metric "
                                    "of an evaluation such as hellaswag/acc_norm)",
                                    r->run.run_id, r->run.name, metric));
    a.by_seed[seed_of(*r)] = *value;
    xs.push_back(*value);
  }
  a.interval = t_interval(xs);
  return a;
}

Comparison compare_arms(const DbView& v, const std::string& a, const std::string& b, const std::string& metric) {
  Comparison c;
  c.a = load_arm(v, a, metric);
  c.b = load_arm(v, b, metric);
  c.diff = paired_difference(c.a.by_seed, c.b.by_seed);
  const Interval& d = c.diff.interval;
  if (d.n == 0) {
    c.verdict = fmt::format("no seed in common: {} and {} cannot be paired", a, b);
  } else if (!d.has_interval()) {
    c.verdict = "one shared seed: no interval (run more seeds, e.g. \"train.seed\" = [0, 1, 2] in the sweep's grid)";
  } else if (d.contains(0)) {
    c.verdict = fmt::format("inconclusive: the 95% interval of {} - {} contains 0", b, a);
  } else {
    c.verdict = fmt::format("{} is {} than {} (95% interval of the paired difference excludes 0)", b,
                            d.mean < 0 ? "lower" : "higher", a);
  }
  return c;
}

std::string format_comparison(const Comparison& c, const std::string& metric) {
  std::string seeds;
  for (auto s : c.diff.seeds) seeds += (seeds.empty() ? "" : ",") + std::to_string(s);
  const Interval& d = c.diff.interval;
  std::string out;
  out += fmt::format("{:<12} {}\n", "metric", metric);
  out += fmt::format("{:<12} {}\n", "A " + c.a.name, format_interval(c.a.interval));
  out += fmt::format("{:<12} {}\n", "B " + c.b.name, format_interval(c.b.interval));
  out += fmt::format("{:<12} {} paired over seeds [{}]", "B - A", format_interval(d), seeds);
  if (d.has_interval()) out += fmt::format(", 95% CI [{:.4f}, {:.4f}], sd {:.4f}", d.low(), d.high(), d.sd);
  out += "\n" + fmt::format("{:<12} {}\n", "verdict", c.verdict);
  return out;
}

}  // namespace sharelab::analysis
