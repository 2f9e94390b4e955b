// RunConfig's identity: canonical JSON (sorted keys, every field, exact numbers) and the run id,
// the stable hash of that text (common/stable_hash.h). Also the step arithmetic of TrainConfig.
#include "common/threads.h"
#include "runner/config/run_config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <thread>

#include "common/errors.h"

#include "common/stable_hash.h"
#include "runner/config/config_fields.h"

namespace sharelab::config {

int64_t TrainConfig::steps() const {
  return global_batch_tokens > 0 ? int64_t(tokens / double(global_batch_tokens)) : 0;
}

int64_t TrainConfig::accumulation() const {
  const int64_t row_tokens = micro_batch * seq_len;
  return row_tokens > 0 ? global_batch_tokens / row_tokens : 0;
}

TrainConfig::Shape TrainConfig::shape(int world) const {
  const int64_t rows = seq_len > 0 ? global_batch_tokens / seq_len : 0;  // rows per optimizer step, all ranks
  if (world < 1 || rows % world != 0 || micro_batch < 1)
    throw ConfigError(fmt::format("train.global_batch_tokens = {} is {} rows of train.seq_len {}: they do not divide "
                                  "among {} data-parallel ranks (pick a world size that divides {})",
                                  global_batch_tokens, rows, seq_len, world, rows));
  const int64_t per_rank = rows / world;
  int64_t micro = std::min(micro_batch, per_rank);
  while (per_rank % micro != 0) --micro;
  return {world, micro, per_rank / micro};
}

// nlohmann::json keeps object keys in a std::map (sorted) and dump() writes no whitespace and each
// double in the shortest text that reads back to the same bits: one text per config.
std::string RunConfig::canonical_json() const {
  nlohmann::json j = {{"sweep", sweep}, {"name", name}, {"preset", preset}, {"scale", scale}};
  for (const auto& s : config_sections()) j[s] = section_json(*this, s);
  // Absent when unset, so the run ids of runs from before the field existed stay what they were.
  if (train.init_from.empty()) j["train"].erase("init_from");
  if (train.skip_nonfinite == 0) j["train"].erase("skip_nonfinite");
  return j.dump();
}

std::string RunConfig::run_id() const { return stable_hash(canonical_json()); }

int TrainConfig::threads_or_cores() const { return sharelab::threads_or_cores(threads); }

std::string RunConfig::geometry_key() const {
  return stable_hash(section_json(*this, "model").dump() +
                     fmt::format("|seq={}|micro={}|{}|{}|threads={}", train.seq_len, train.micro_batch, train.precision,
                                 train.device, train.threads_or_cores()));
}

}  // namespace sharelab::config
