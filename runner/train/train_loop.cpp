// The training loop: one optimizer step at a time (TrainSession::step), the periodic work between
// steps (PeriodicWork) and the run's bookkeeping at the end (record_run).
#include "runner/train/train_loop.h"

#include "runner/train/periodic_work.h"
#include "runner/train/run_record.h"
#include "runner/train/train_session.h"

namespace sharelab::train {

TrainResult train_on(const config::RunConfig& run, const TrainOptions& opt, BatchSource& train, BatchSource* val) {
  TrainSession session(run, opt, train, val);
  PeriodicWork work(run, opt, session);
  while (!session.done())
    if (!work.after_step(session.step())) break;
  work.finish();
  session.stop_clock();
  TrainResult res = record_run(run, opt, session, work.last_checkpoint());
  res.preempted = work.preempted();
  return res;
}

}  // namespace sharelab::train
