// RunConfig's identity: canonical JSON (sorted keys, every field, exact numbers) and the run id,
// the stable hash of that text (common/stable_hash.h). Also the step arithmetic of TrainConfig.
#include "runner/config/run_config.h"

#include <fmt/format.h>

#include <map>
#include <thread>

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

std::string RunConfig::canonical_json() const {
  std::map<std::string, std::string> kv;
  for (const auto& s : config_sections()) kv[s] = section_json(*this, s);
  kv["sweep"] = json_string(sweep);
  kv["name"] = json_string(name);
  kv["preset"] = json_string(preset);
  kv["scale"] = json_string(scale);
  std::string out = "{";
  for (const auto& [k, v] : kv) out += (out.size() > 1 ? "," : "") + json_string(k) + ":" + v;
  return out + "}";
}

std::string RunConfig::run_id() const { return stable_hash(canonical_json()); }

int TrainConfig::threads_or_cores() const {
  if (threads > 0) return threads;
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? int(n) : 1;
}

std::string RunConfig::geometry_key() const {
  return stable_hash(section_json(*this, "model") + fmt::format("|seq={}|micro={}|{}|{}|threads={}", train.seq_len,
                                                                train.micro_batch, train.precision, train.device,
                                                                train.threads_or_cores()));
}

}  // namespace sharelab::config
