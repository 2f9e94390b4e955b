// HF model directories (see hf_dir.h).
#include "runner/interop/hf_dir.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iterator>
#include <set>
#include <unistd.h>

#include "arch/weights.h"
#include "common/atomic_file.h"
#include "common/errors.h"
#include "runner/data/spm_vocab.h"
#include "runner/interop/hf_config.h"
#include "runner/interop/hf_tokenizer.h"

namespace sharelab::interop {

namespace fs = std::filesystem;
using nlohmann::json;
using OJson = nlohmann::ordered_json;

namespace {

constexpr const char* kIndex = "model.safetensors.index.json";

std::string shard_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

void write_json(const fs::path& p, const OJson& j) { arch::write_file_atomic(p.string(), j.dump(2) + "\n"); }

// Groups the tensors into shards of at most max_bytes (a tensor larger than that gets its own).
std::vector<NamedTensors> plan_shards(const NamedTensors& all, int64_t elem, int64_t max_bytes) {
  std::vector<NamedTensors> shards(1);
  int64_t used = 0;
  for (const auto& nt : all) {
    const int64_t bytes = nt.second.numel() * elem;
    if (!shards.back().empty() && used + bytes > max_bytes) shards.emplace_back(), used = 0;
    shards.back().push_back(nt);
    used += bytes;
  }
  return shards;
}

void write_weights(arch::CausalLM& model, const fs::path& dir, const HfExportOptions& opt) {
  const auto state = arch::hf_state(model);
  const NamedTensors all(state.begin(), state.end());
  const int64_t elem = dtype_bytes(opt.dtype);
  const auto shards = plan_shards(all, elem, opt.max_shard_bytes);
  if (shards.size() == 1) {
    write_safetensors((dir / "model.safetensors").string(), all, opt.dtype);
    return;
  }
  OJson weight_map = OJson::object();
  int64_t total = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string name = shard_name(i, shards.size());
    write_safetensors((dir / name).string(), shards[i], opt.dtype);
    for (const auto& [t, v] : shards[i]) weight_map[t] = name, total += v.numel() * elem;
  }
  write_json(dir / kIndex, {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}});
}

// Replaces `dir` by the finished `tmp`: the old directory is moved aside first, so some complete
// version is always in place.
void commit_dir(const fs::path& tmp, const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir)) {
    const bool replaceable = fs::is_directory(dir) && (fs::is_empty(dir) || fs::exists(dir / "config.json"));
    if (!replaceable)
      throw ConfigError(dir.string() + ": exists and is not an HF model directory; remove it or choose another --hf");
    const fs::path old = dir.string() + ".old-" + std::to_string(::getpid());
    fs::rename(dir, old, ec);
    if (ec) throw ConfigError(dir.string() + ": cannot move the old directory aside (" + ec.message() + ")");
    fs::rename(tmp, dir, ec);
    if (ec) {
      fs::rename(old, dir);
      throw ConfigError(dir.string() + ": cannot rename the export into place (" + ec.message() + ")");
    }
    fs::remove_all(old, ec);
    return;
  }
  fs::rename(tmp, dir, ec);
  if (ec) throw ConfigError(dir.string() + ": cannot rename the export into place (" + ec.message() + ")");
}

// name -> (tensor, the file it came from), every shard read.
std::map<std::string, std::pair<torch::Tensor, std::string>> read_state(const fs::path& d) {
  std::map<std::string, std::pair<torch::Tensor, std::string>> state;
  if (!fs::exists(d / kIndex)) {
    const std::string f = (d / "model.safetensors").string();
    for (auto& [name, t] : read_safetensors(f)) state[name] = {t, f};
    return state;
  }
  const std::string idx = (d / kIndex).string();
  const json j = read_json_file(idx, "the shard index");
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw ConfigError(idx + ": field 'weight_map' is missing or not an object");
  std::set<std::string> shards;
  for (const auto& [name, file] : j["weight_map"].items()) {
    if (!file.is_string()) throw ConfigError(idx + ": field 'weight_map." + name + "' is not a file name");
    const std::string f = file.get<std::string>();
    if (f.find('/') != std::string::npos || !fs::is_regular_file(d / f))
      throw ConfigError(idx + ": field 'weight_map." + name + "' names shard '" + f + "', which is missing");
    shards.insert(f);
  }
  for (const auto& shard : shards) {
    const std::string f = (d / shard).string();
    for (auto& [name, t] : read_safetensors(f)) state[name] = {t, f};
  }
  for (const auto& [name, file] : j["weight_map"].items())
    if (!state.count(name) || fs::path(state[name].second).filename() != file.get<std::string>())
      throw ConfigError((d / file.get<std::string>()).string() + ": tensor '" + name + "' is missing (" + idx +
                        " puts it there)");
  return state;
}

}  // namespace

void export_hf_dir(arch::CausalLM& model, const std::string& dir_arg, const HfExportOptions& opt) {
  const fs::path dir = fs::path(dir_arg).lexically_normal();
  const auto& spec = model->spec();
  SpecialTokens tokens;
  if (!opt.tokenizer.empty()) {
    const auto vocab = data::read_spm_vocab(opt.tokenizer);
    if (int64_t(vocab.pieces.size()) > spec.vocab_size)
      throw ConfigError(opt.tokenizer + ": " + std::to_string(vocab.pieces.size()) +
                        " pieces, more than the model's vocab_size " + std::to_string(spec.vocab_size));
    tokens = special_tokens(vocab);
  }
  if (fs::exists(dir) && !fs::is_directory(dir))
    throw ConfigError(dir.string() + ": exists and is not a directory; choose another --hf");
  const fs::path tmp = dir.string() + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw ConfigError(tmp.string() + ": cannot create (" + ec.message() + ")");
  try {
    write_json(tmp / "config.json", hf_config_json(spec, tokens, torch_name(opt.dtype)));
    write_json(tmp / "generation_config.json", hf_generation_config_json(tokens));
    if (!opt.tokenizer.empty()) write_hf_tokenizer(opt.tokenizer, tmp.string(), spec.max_seq_len);
    write_weights(model, tmp, opt);
    commit_dir(tmp, dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

bool is_hf_dir(const std::string& dir) {
  const fs::path d(dir);
  return fs::is_directory(d) && fs::exists(d / "config.json") && !fs::exists(d / "latest");
}

arch::CausalLM load_hf_dir(const std::string& dir) {
  const fs::path d(dir);
  const std::string config = (d / "config.json").string();
  arch::CausalLM model(spec_from_hf_config(config));
  auto state = read_state(d);
  // Buffers some transformers versions saved, and a tied head's copy of the embedding.
  for (auto it = state.begin(); it != state.end();)
    it = it->first.find("rotary_emb.inv_freq") != std::string::npos ? state.erase(it) : std::next(it);
  if (model->spec().tie_embeddings) state.erase("lm_head.weight");
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [name, want] : arch::hf_state(model)) {
    auto it = state.find(name);
    if (it == state.end())
      throw ConfigError(dir + ": tensor '" + name + "' is missing, but " + config + " describes a model with it");
    if (it->second.first.sizes() != want.sizes())
      throw ConfigError(it->second.second + ": tensor '" + name + "' has shape " + c10::str(it->second.first.sizes()) +
                        ", but " + config + " implies " + c10::str(want.sizes()));
    tensors[name] = it->second.first;
    state.erase(it);
  }
  if (!state.empty())
    throw ConfigError(state.begin()->second.second + ": tensor '" + state.begin()->first + "' is not part of the model " +
                      config + " describes");
  arch::load_hf_state(model, tensors, dir);
  return model;
}

}  // namespace sharelab::interop
