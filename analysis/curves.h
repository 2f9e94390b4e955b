// Validation-loss curves of a sweep's finished runs, grouped by arm (the run name without the
// "-seed=S" a seed list appends) and seed, each point also placed in wall-clock time: what the HTML
// report draws with seed bands, and what `analysis plot` draws one line per run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/db_view.h"
#include "runner/store/results_store.h"

namespace sharelab::analysis {

struct SeedCurve {
  int64_t seed = 0;
  std::string run_id;
  std::vector<double> tokens, wall_s, loss;  // one entry per val point, by tokens; wall_s empty when underivable
  bool wall_pro_rata = false;                // wall_s scaled from the run's total, not integrated
};

struct ArmCurves {
  std::string arm;
  std::string scheme;
  std::vector<SeedCurve> seeds;  // seeds ascending
};

// Wall-clock seconds at each of `at_tokens`: integrate the logged training throughput (delta tokens
// / tokens_per_s between train points, sorted by tokens), else scale the run's total wall_s by
// tokens (pro_rata = true), else empty.
std::vector<double> wall_times(const std::vector<store::SeriesPoint>& train, const std::vector<double>& at_tokens,
                               std::optional<double> wall_total, std::optional<double> tokens_total, bool& pro_rata);

// One run's validation curve: its "val" points by tokens, with wall times from its "train" series
// and its scalars "wall_s" / "tokens". Empty `loss` when the run has no val point.
SeedCurve load_run_curve(store::ResultsStore& db, const std::string& run_id,
                         const std::map<std::string, double>& scalars);

// The finished runs of `view` grouped by arm, one per seed (the latest finished, as find_runs picks
// them, so the curves are those of the runs the findings compare). Runs without val points are
// left out, and an arm with none is too. Arms in order of first appearance in view.runs.
std::vector<ArmCurves> load_curves(store::ResultsStore& db, const DbView& view);

}  // namespace sharelab::analysis
