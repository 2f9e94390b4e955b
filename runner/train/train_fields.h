// The [train] section by name: a field table over sweep::TrainConfig (as arch/model_spec.h has for
// ModelSpec), so `runner train --set train.lr=1e-3` and the sweep's TOML reader set the same keys
// with the same checks, and a semantic validation whose messages name the keys involved.
#pragma once

#include <string>
#include <vector>

#include "arch/model_spec.h"
#include "runner/sweep/run_config.h"

namespace sharelab::train {

const std::vector<arch::FieldInfo>& train_fields();
std::string train_field_names();  // "lr, min_lr, ..."

// Set one field from text ("3e-4", "2048", "bf16"). Unknown key or unparsable value -> ConfigError
// naming the key, the value and what was expected.
void set_train_field(sweep::TrainConfig& t, const std::string& key, const std::string& value);
std::string get_train_field(const sweep::TrainConfig& t, const std::string& key);

// Semantic checks across fields, e.g. "train.global_batch_tokens 1000 is not divisible by
// train.micro_batch x train.seq_len = 8 x 128". Throws ConfigError on the first problem.
void validate_train(const sweep::TrainConfig& t);

// Steps and accumulation implied by the config (validate_train first).
int64_t train_steps(const sweep::TrainConfig& t);         // tokens / global_batch_tokens, rounded down
int64_t accumulation_steps(const sweep::TrainConfig& t);  // global_batch_tokens / (micro_batch x seq_len)

}  // namespace sharelab::train
