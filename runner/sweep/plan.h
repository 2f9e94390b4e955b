// The plan of a sweep: one row per run with its size, budget, status in the results database and
// projected wall time on this machine, printed by `runner sweep --dry-run` (and before training).
// Projections come from measured tokens/s of finished runs of the same geometry in the database
// when there are any, else from the FLOP count at an assumed throughput; both are labelled.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "runner/store/results_store.h"
#include "runner/sweep/expand.h"

namespace sharelab::sweep {

struct PlanRow {
  PlannedRun run;
  std::string run_id;
  std::string status;  // "new", "finished", "partial" (started, not finished)
  int64_t unique_params = 0, effective_params = 0;
  double tokens = 0;
  int64_t steps = 0;
  double projected_s = 0;
  std::string projected_from;  // "measured N tok/s" or "FLOPs at X GFLOP/s (assumed)"
};

// Training FLOP/s assumed when nothing was measured (see plan.cpp for the measurement).
double assumed_train_flops(const RunConfig& rc);

// store may be null (no database yet): every run is then "new".
std::vector<PlanRow> make_plan(const std::vector<PlannedRun>& runs, store::ResultsStore* store);

void print_plan(std::ostream& out, const std::string& sweep_name, const std::string& scale,
                const std::vector<PlanRow>& rows);

// A projected run time, up to years: "42 s", "3.5 min", "2.1 h", "12.0 d", "3.1 y".
std::string format_projection(double seconds);

}  // namespace sharelab::sweep
