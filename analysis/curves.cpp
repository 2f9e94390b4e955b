// Loading validation curves from the results store (see curves.h).
#include "analysis/curves.h"

#include <algorithm>
#include <set>
#include <utility>

namespace sharelab::analysis {

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

SeedCurve load_run_curve(store::ResultsStore& db, const std::string& run_id,
                         const std::map<std::string, double>& scalars) {
  SeedCurve c;
  c.run_id = run_id;
  auto val = db.series(run_id, "val");
  if (val.empty()) return c;
  std::sort(val.begin(), val.end(), [](auto& a, auto& b) { return a.tokens < b.tokens; });
  auto train = db.series(run_id, "train");
  std::sort(train.begin(), train.end(), [](auto& a, auto& b) { return a.tokens < b.tokens; });
  auto get = [&](const char* k) -> std::optional<double> {
    auto it = scalars.find(k);
    return it == scalars.end() ? std::nullopt : std::optional<double>(it->second);
  };
  for (const auto& p : val) c.tokens.push_back(p.tokens), c.loss.push_back(p.loss);
  c.wall_s = wall_times(train, c.tokens, get("wall_s"), get("tokens"), c.wall_pro_rata);
  return c;
}

std::vector<ArmCurves> load_curves(store::ResultsStore& db, const DbView& view) {
  std::vector<std::string> arms;  // first appearance in view.runs
  std::set<std::string> seen;
  for (const auto& r : view.runs)
    if (r.run.status == "finished" && seen.insert(arm_of(r)).second) arms.push_back(arm_of(r));
  std::vector<ArmCurves> out;
  for (const auto& arm : arms) {
    ArmCurves a;
    a.arm = arm;
    // find_runs: the latest finished per seed, in seed order; a run without a stored seed is seed 0.
    for (const RunData* r : find_runs(view, arm)) {
      SeedCurve c = load_run_curve(db, r->run.run_id, r->scalars);
      if (c.loss.empty()) continue;
      c.seed = stored_seed(*r).value_or(0);
      if (a.scheme.empty()) a.scheme = r->run.scheme;
      a.seeds.push_back(std::move(c));
    }
    if (!a.seeds.empty()) out.push_back(std::move(a));
  }
  return out;
}

}  // namespace sharelab::analysis
