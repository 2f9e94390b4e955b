// Logging, validation, checkpoints and store writes between steps (see periodic_work.h).
#include "runner/train/periodic_work.h"

#include <fmt/format.h>

#include <cmath>
#include <csignal>

#include "common/stop_signal.h"

namespace sharelab::train {

namespace {

// A loss or norm for a message: "nan" whatever its sign bit.
std::string value_text(double v) { return std::isnan(v) ? "nan" : fmt::format("{}", v); }

// Crossed a multiple of `every` going from `before` to `after` tokens.
bool crossed(double before, double after, double every) {
  return every > 0 && std::floor(after / every) > std::floor(before / every);
}

// In a log: a step line every log_every_steps (the series points' cadence) and a final one.
ProgressOptions progress_options(const config::RunConfig& run, const TrainOptions& opt, const TrainSession& s) {
  ProgressOptions o;
  o.label = run.name.empty() ? run.preset : run.name;
  o.total = double(s.total_steps());
  o.unit = "steps";
  o.start = double(s.state().step);
  o.show_rate = false;  // the fields' tok/s, of the training steps alone
  o.enabled = opt.progress && s.speaks();
  o.line_every = double(run.train.log_every_steps);
  o.line_every_s = 0;
  return o;
}

}  // namespace

PeriodicWork::PeriodicWork(const config::RunConfig& run, const TrainOptions& opt, TrainSession& session)
    : run_(run), opt_(opt), s_(session), run_id_(run.run_id()), progress_(progress_options(run, opt, session)) {
  const LoopState& st = s_.state();
  if (s_.resumed_from())
    say(fmt::format("resumed from {} at step {} ({:.4g} tokens)", *s_.resumed_from(), st.step, st.tokens));
}

bool PeriodicWork::after_step(const StepReport& r) {
  const config::TrainConfig& tc = run_.train;
  const LoopState& st = s_.state();
  const bool last = st.step == s_.total_steps();
  window_tokens_ += s_.step_tokens();
  window_s_ += r.seconds;
  const double tokens_per_s = window_tokens_ / window_s_;
  step_fields_ = fmt::format("tok {:.3g}/{:.3g} | loss {:.4f} | lr {:.2e} | gnorm {:.3f} | {:.0f} tok/s | ep {:.2f}",
                             st.tokens, double(s_.total_steps()) * s_.step_tokens(), st.last_loss, r.lr, r.grad_norm,
                             tokens_per_s, st.epochs);
  progress_.update(double(st.step), step_fields_);
  if (r.skipped)
    say(fmt::format("step {}: loss {} / gradient norm {} not finite: update skipped, its data consumed ({} of "
                    "train.skip_nonfinite = {})",
                    st.step, value_text(r.loss), value_text(r.grad_norm), st.nonfinite_skipped, tc.skip_nonfinite));
  if ((st.step % tc.log_every_steps == 0 || last) && !r.skipped) {  // a skipped step has no finite point
    pending_.push_back({"train", st.step, st.tokens, st.last_loss, r.lr, r.grad_norm, tokens_per_s});
    window_tokens_ = window_s_ = 0;
    flush_series();
  }
  if (crossed(r.tokens_before, st.tokens, tc.val_every_tokens) || last) validate();
  const bool saved = crossed(r.tokens_before, st.tokens, tc.checkpoint_every_tokens) || last;
  if (saved) checkpoint();
  if (r.stop && !last) {  // preemption or the time limit: keep the work, then stop
    if (!saved) checkpoint();
    const int sig = stop_signal();
    say(fmt::format("stopping at step {} on {}; run the same command again to resume", st.step,
                    sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1" : "a stop signal"));
    preempted_ = true;
    return false;
  }
  // Tests of kill/resume: stop at the first scheduled checkpoint at or past stop_after_tokens
  // (or right there when no periodic checkpoints are scheduled).
  const bool periodic = tc.checkpoint_every_tokens > 0;
  if (opt_.stop_after_tokens > 0 && st.tokens >= opt_.stop_after_tokens && !last && (saved || !periodic)) {
    if (!saved) checkpoint();
    say(fmt::format("stopping early at {:.4g} tokens (stop_after_tokens)", st.tokens));
    return false;
  }
  return true;
}

void PeriodicWork::finish() {
  progress_.finish(double(s_.state().step), step_fields_);
  flush_series();
}

void PeriodicWork::validate() {
  if (!s_.has_validation()) return;
  const LoopState& st = s_.state();
  const double loss = s_.validate();
  say(
      fmt::format("step {} | tok {:.4g} | val loss {:.4f} | val ppl {:.2f}", st.step, st.tokens, loss, std::exp(loss)));
  pending_.push_back({"val", st.step, st.tokens, loss, 0, 0, 0});
}

void PeriodicWork::checkpoint() {
  last_checkpoint_ = s_.save_checkpoint();
  flush_series();
  const LoopState& st = s_.state();
  say(fmt::format("checkpoint {} (step {}, {:.4g} tokens, {:.2f} epochs)", last_checkpoint_, st.step,
                                st.tokens, st.epochs));
}

void PeriodicWork::say(const std::string& text) {
  if (s_.speaks()) progress_.message(text);
}

void PeriodicWork::flush_series() {
  if (opt_.store && !pending_.empty()) opt_.store->add_series(run_id_, pending_);
  pending_.clear();
}

}  // namespace sharelab::train
