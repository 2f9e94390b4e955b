// RunConfig's identity: canonical JSON (sorted keys, every field, exact numbers) and the run id,
// a stable 64-bit FNV-1a hash of that text. Also the step arithmetic of TrainConfig.
#include "runner/sweep/run_config.h"

#include <cstdio>
#include <map>

#include "runner/sweep/config_fields.h"

namespace sharelab::sweep {

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

std::string stable_hash(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace sharelab::sweep
