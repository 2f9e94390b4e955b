// Semantic validation of the [train] section, whose messages name the keys involved. Keys are set
// by name through the sweep's field table (runner/config/config_fields.h), for sweeps and
// `runner train --set` alike.
#pragma once

#include "runner/config/run_config.h"

namespace sharelab::train {

// Semantic checks across fields, e.g. "train.global_batch_tokens 1000 is not divisible by
// train.micro_batch x train.seq_len = 8 x 128". Throws ConfigError on the first problem.
void validate_train(const config::TrainConfig& t);

}  // namespace sharelab::train
