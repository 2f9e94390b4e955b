// The plan of a sweep: one row per run with its size, budget, step shape on the job's ranks (world
// size, micro batch per rank, accumulation steps), status in the results database and projected
// wall time, printed by `runner sweep --dry-run` (and before training, and by --emit-slurm).
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
  config::TrainConfig::Shape shape;  // one optimizer step on the plan's world
  double projected_s = 0;
  std::string projected_from;  // "measured N tok/s" or "FLOPs at X GFLOP/s (assumed)"
};

// Training FLOP/s assumed when nothing was measured (see plan.cpp for the measurement).
double assumed_train_flops(const RunConfig& rc);

// The run's step shape on `world` data-parallel ranks (TrainConfig::shape); its ConfigError is one
// line naming the run: "run 'NAME': train.global_batch_tokens = ... do not divide among W ...".
config::TrainConfig::Shape run_shape(const RunConfig& rc, int world);

// store may be null (no database yet): every run is then "new". `world`: the data-parallel ranks
// each run trains on (--nodes x --gpus-per-node, else the launcher's WORLD_SIZE, else 1); a run
// whose batch does not divide among them throws run_shape's ConfigError. GPU projections assume
// perfect scaling over the ranks.
std::vector<PlanRow> make_plan(const std::vector<PlannedRun>& runs, store::ResultsStore* store, int world);

void print_plan(std::ostream& out, const std::string& sweep_name, const std::string& scale,
                const std::vector<PlanRow>& rows, int world);

// A projected run time, up to years: "42 s", "3.5 min", "2.1 h", "12.0 d", "3.1 y".
std::string format_projection(double seconds);

}  // namespace sharelab::sweep
