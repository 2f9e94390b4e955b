// What happens between optimizer steps: the progress line, train-loss points every
// log_every_steps, validation every val_every_tokens, checkpoints every checkpoint_every_tokens
// (and all three at the last step), series written to the results store at each log step and
// checkpoint, the early stop of kill/resume tests, and the stop on SIGTERM/SIGUSR1/SIGINT (checkpoint, then
// stop). On a data-parallel run every rank makes the same decisions (validation and checkpoints
// are collective); only rank 0 speaks and writes.
#pragma once

#include <string>
#include <vector>

#include "common/progress.h"
#include "runner/train/train_session.h"

namespace sharelab::train {

class PeriodicWork {
 public:
  PeriodicWork(const config::RunConfig& run, const TrainOptions& opt, TrainSession& session);

  // After each step; false when the run stops early (TrainOptions::stop_after_tokens, or a stop
  // signal: preempted()).
  bool after_step(const StepReport& r);
  void finish();  // the final progress line and the last series points

  const std::string& last_checkpoint() const { return last_checkpoint_; }  // "" when none was written
  bool preempted() const { return preempted_; }

 private:
  void validate();
  void checkpoint();
  void flush_series();
  void say(const std::string& text);

  const config::RunConfig& run_;
  const TrainOptions& opt_;
  TrainSession& s_;
  const std::string run_id_;
  ProgressReporter progress_;
  std::vector<store::SeriesPoint> pending_;  // points since the last store write
  double window_tokens_ = 0, window_s_ = 0;  // tokens/s over the steps since the last log step
  std::string step_fields_;                  // the latest step's, for the final progress line
  std::string last_checkpoint_;
  bool preempted_ = false;
};

}  // namespace sharelab::train
