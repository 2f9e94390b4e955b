// The bookkeeping at the end of train_on: the TrainResult, and for a finished run its scalars in
// the results store (parameters, tokens, time, throughput, MFU, peak memory, final losses).
#pragma once

#include <string>

#include "runner/train/train_session.h"

namespace sharelab::train {

// `last_checkpoint`: written by this call of train_on ("" when none was).
TrainResult record_run(const config::RunConfig& run, const TrainOptions& opt, TrainSession& s,
                       const std::string& last_checkpoint);

}  // namespace sharelab::train
