// One run's training state on this process: the model, AdamW, the LR schedule, the loop state
// (resumed from the run's latest checkpoint when asked), the data cursor and the held-out rows.
// step() is one optimizer step; validate() and save_checkpoint() are what the periodic work
// (periodic_work.h) calls. Data parallel (TrainOptions::comm): every rank builds the same model from
// the seed (checked), reads its slice of each global micro-batch, and step() all-reduces the
// gradients during backward (dist::GradReducer); validation is split among the ranks; rank 0
// writes checkpoints while the others wait.
// A step whose loss or gradient norm is not finite updates nothing; up to train.skip_nonfinite such
// steps are skipped (their data consumed, counted in LoopState::nonfinite_skipped, the run's scalar
// "nonfinite_skipped_steps" and a log line), the next one stops the run (std::runtime_error naming
// the run, the step and the last good checkpoint; exit 1). Tests inject such steps with the
// environment variable SHARELAB_FAULT_NONFINITE=STEP[,STEP...] (1-based step numbers): those steps'
// losses are multiplied by +inf before backward (StepOptions::poison). Not for production use.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "arch/model.h"
#include "runner/config/run_config.h"
#include "runner/dist/grad_reducer.h"
#include "runner/train/adamw.h"
#include "runner/train/checkpoint.h"
#include "runner/train/lr_schedule.h"
#include "runner/train/train_loop.h"
#include "runner/train/train_step.h"

namespace sharelab::train {

// What one step did, for logging: the loop state already counts it.
struct StepReport {
  double lr = 0, loss = 0, grad_norm = 0;
  double seconds = 0;        // wall time of the step
  double tokens_before = 0;  // tokens trained on before it (for "crossed a multiple of N tokens")
  bool stop = false;         // a rank got SIGTERM/SIGUSR1/SIGINT: checkpoint and stop (all ranks agree)
  bool skipped = false;      // non-finite loss or gradient: no update (within train.skip_nonfinite)
};

// train.init_from: an HF directory (ours or transformers') or a native weights file, into any
// scheme whose shared modules the source holds identical copies of (ConfigError otherwise).
void load_init_weights(arch::CausalLM& model, const std::string& path);

class TrainSession {
 public:
  // Validates the run, sets threads and device, builds the model and optimizer, resumes from the
  // latest checkpoint when opt.resume, writes <run_dir>/config.json and reads the held-out rows.
  TrainSession(const config::RunConfig& run, const TrainOptions& opt, BatchSource& train, BatchSource* val);

  bool done() const { return state_.step >= total_steps_; }
  StepReport step();  // throws runtime_error on a non-finite step beyond train.skip_nonfinite
  bool has_validation() const { return !val_rows_.empty(); }
  double validate();              // mean held-out loss; also kept as state().last_val_loss
  std::string save_checkpoint();  // the path written
  void stop_clock();              // state().wall_s and cpu_s up to now

  const LoopState& state() const { return state_; }
  const std::optional<std::string>& resumed_from() const { return resumed_from_; }
  int64_t total_steps() const { return total_steps_; }
  double step_tokens() const { return step_tokens_; }
  const torch::Device& device() const { return device_; }
  const config::TrainConfig::Shape& shape() const { return shape_; }
  bool speaks() const { return !comm_ || comm_->rank() == 0; }  // rank 0 logs, writes files and rows
  dist::GradReducer* reducer() { return reducer_.get(); }
  bool bf16() const { return bf16_; }
  int threads() const { return threads_; }

 private:
  torch::Tensor next_rows(BatchSource& src, int64_t rows);
  torch::Tensor next_train_rows();
  void check_same_weights();
  [[noreturn]] void stop_nonfinite(const StepStats& ss);
  double job_sum(double v, const char* what);  // over the ranks (v itself on one process)

  const config::RunConfig& run_;
  const TrainOptions& opt_;
  dist::Comm* comm_;
  config::TrainConfig::Shape shape_;
  BatchSource& train_;
  std::chrono::steady_clock::time_point t_start_;
  double cpu_start_;
  int threads_;
  torch::Device device_;
  bool bf16_;
  int64_t total_steps_;
  double step_tokens_;
  std::string config_json_;
  arch::CausalLM model_;
  AdamW optim_;
  StepOptions step_opt_;
  LrSchedule sched_;
  std::unique_ptr<dist::GradReducer> reducer_;
  LoopState state_;
  std::optional<std::string> resumed_from_;
  std::vector<torch::Tensor> val_rows_;  // read once: every validation scores the same rows
  double wall_before_ = 0, cpu_before_ = 0;  // the resumed run's times before this process
  std::set<int64_t> fault_steps_;            // SHARELAB_FAULT_NONFINITE
};

}  // namespace sharelab::train
