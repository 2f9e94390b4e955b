// The training loop for one run: builds the model from RunConfig.model, trains on the prepared
// shards with the run's recipe (AdamW, cosine LR with warm-up, clipping, gradient accumulation,
// bf16 autocast), validates periodically, checkpoints atomically and resumes bit-exactly.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "runner/store/results_store.h"
#include "runner/config/run_config.h"

namespace sharelab::dist {
class Comm;
}

namespace sharelab::train {

struct TrainResult {
  bool finished = false;   // reached the token budget
  int64_t steps = 0;
  double tokens = 0;
  double final_train_loss = 0, final_val_loss = 0;
  double wall_s = 0, tokens_per_s = 0;
  double epochs = 0;       // passes over the training data (> 1 means data repeated)
  std::string final_checkpoint;
  bool preempted = false;  // stopped by SIGTERM/SIGUSR1/SIGINT after a checkpoint: run again to resume
};

struct TrainOptions {
  std::string run_dir;            // results/runs/<run_id>: checkpoints live here
  store::ResultsStore* store = nullptr;  // scalars + series written here when set
  bool resume = true;             // continue from run_dir's latest checkpoint when present
  bool progress = true;           // step progress on stderr (--no-progress: only events such as checkpoints)
  double stop_after_tokens = 0;   // > 0: stop at the first checkpoint at or past this many tokens
                                  // (tests of kill/resume); not a finished run
  dist::Comm* comm = nullptr;     // this process's data-parallel job; null: one process
  double bucket_bytes = 0;        // gradient all-reduce buckets; 0: dist::kBucketBytes (25 MB)
};

// Trains (or resumes) the run. Throws ConfigError for bad data/config, runtime_error otherwise.
// With opt.store: train series points (every log step), val points (every validation) and, when
// the run finishes, its scalars. The run row itself (begin_run / finish_run) belongs to the
// caller (`runner sweep`, `runner train`, `runner resume`), which knows the sweep and geometry.
TrainResult train_run(const config::RunConfig& run, const TrainOptions& opt);

// The run's data folder fits the run: prepared, ids within model.vocab_size, and validation rows
// when the run asks for validation; train.device exists in this build and machine; the global
// batch divides among `world` data-parallel ranks. ConfigError otherwise.
// train_run checks it too; callers check first so that a refused run leaves no row in the results
// database.
void check_run_inputs(const config::RunConfig& run, int world = 1);

}  // namespace sharelab::train
