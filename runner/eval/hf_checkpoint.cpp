// safetensors reading/writing and HF config.json -> ModelSpec (see hf_checkpoint.h).
#include "runner/eval/hf_checkpoint.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/errors.h"
#include "arch/h5_tensors.h"
#include "arch/weights.h"
#include "runner/eval/read_util.h"

namespace sharelab::eval {

namespace fs = std::filesystem;
using nlohmann::json;

std::map<std::string, torch::Tensor> read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open safetensors file");
  in.seekg(0, std::ios::end);
  const uint64_t file_size = uint64_t(in.tellg());
  in.seekg(0);
  unsigned char len_bytes[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(len_bytes), 8))
    throw ConfigError(path + ": shorter than the 8-byte safetensors header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];  // little-endian u64
  if (header_len > 100000000 || 8 + header_len > file_size)
    throw ConfigError(path + ": header length " + std::to_string(header_len) + " does not fit the file (" +
                      std::to_string(file_size) + " bytes)");
  std::string header(header_len, '\0');
  in.read(header.data(), std::streamsize(header_len));
  json h;
  try {
    h = json::parse(header);
  } catch (const json::parse_error& e) {
    throw ConfigError(path + ": header is not valid JSON (" + e.what() + ")");
  }
  const uint64_t data_start = 8 + header_len, data_size = file_size - data_start;
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, info] : h.items()) {
    if (name == "__metadata__") continue;
    const std::string where = path + ": tensor '" + name + "'";
    if (!info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets"))
      throw ConfigError(where + ": header entry needs dtype, shape and data_offsets");
    const std::string dtype = info["dtype"].get<std::string>();
    torch::ScalarType st;
    int64_t elem = 0;
    if (dtype == "F32") st = torch::kFloat, elem = 4;
    else if (dtype == "BF16") st = torch::kBFloat16, elem = 2;
    else if (dtype == "F16") st = torch::kHalf, elem = 2;
    else throw ConfigError(where + ": dtype " + dtype + " not supported (expected F32, BF16 or F16)");
    std::vector<int64_t> shape = info["shape"].get<std::vector<int64_t>>();
    int64_t numel = 1;
    for (auto d : shape) numel *= d;
    const auto off = info["data_offsets"].get<std::vector<uint64_t>>();
    if (off.size() != 2 || off[1] < off[0] || off[1] > data_size || off[1] - off[0] != uint64_t(numel * elem))
      throw ConfigError(where + ": data_offsets do not match its shape and dtype or lie outside the file");
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(st));
    in.seekg(std::streamoff(data_start + off[0]));
    if (!in.read(static_cast<char*>(t.data_ptr()), std::streamsize(off[1] - off[0])))
      throw ConfigError(where + ": truncated data");
    out[name] = t.to(torch::kFloat);
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors) {
  json h;
  h["__metadata__"] = {{"format", "pt"}};
  std::string data;
  for (const auto& [name, t0] : tensors) {
    const torch::Tensor t = t0.detach().to(torch::kFloat).contiguous().cpu();
    const uint64_t begin = data.size();
    data.append(static_cast<const char*>(t.data_ptr()), size_t(t.numel()) * 4);
    h[name] = {{"dtype", "F32"}, {"shape", t.sizes().vec()}, {"data_offsets", {begin, uint64_t(data.size())}}};
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // the reference writer pads to 8 bytes
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xFF);
  arch::write_file_atomic(path, bytes + header + data);
}

arch::ModelSpec spec_from_hf_config(const std::string& path) {
  const OrderedJson c = parse_json(read_text_file(path), path, "config");
  auto num = [&](const char* key, bool required, double fallback) -> double {
    if (!c.contains(key) || c[key].is_null()) {
      if (required) throw ConfigError(path + ": missing field '" + std::string(key) + "'");
      return fallback;
    }
    if (!c[key].is_number()) throw ConfigError(path + ": field '" + std::string(key) + "' must be a number");
    return c[key].get<double>();
  };
  if (c.contains("model_type") && c["model_type"].is_string() && c["model_type"] != "llama" &&
      c["model_type"] != "mobillama")
    throw ConfigError(path + ": model_type '" + c["model_type"].get<std::string>() + "' is not a LLaMA checkpoint");
  arch::ModelSpec s;
  s.name = "hf:" + fs::path(path).parent_path().filename().string();
  s.d_model = int64_t(num("hidden_size", true, 0));
  s.n_heads = int64_t(num("num_attention_heads", true, 0));
  s.n_kv_heads = int64_t(num("num_key_value_heads", false, double(s.n_heads)));
  s.ffn_dim = int64_t(num("intermediate_size", true, 0));
  s.n_layers = int64_t(num("num_hidden_layers", true, 0));
  s.vocab_size = int64_t(num("vocab_size", true, 0));
  s.norm_eps = num("rms_norm_eps", false, 1e-6);
  s.rope_theta = num("rope_theta", false, 10000.0);
  s.max_seq_len = int64_t(num("max_position_embeddings", false, 2048));
  s.tie_embeddings = c.contains("tie_word_embeddings") && c["tie_word_embeddings"].is_boolean() &&
                     c["tie_word_embeddings"].get<bool>();
  if (c.contains("head_dim") && c["head_dim"].is_number() && s.n_heads > 0 &&
      c["head_dim"].get<int64_t>() != s.d_model / s.n_heads)
    throw ConfigError(path + ": head_dim " + c["head_dim"].dump() + " differs from hidden_size / num_attention_heads");
  if (c.contains("rope_scaling") && !c["rope_scaling"].is_null())
    throw ConfigError(path + ": rope_scaling is not supported (plain RoPE only)");
  s.validate();
  return s;
}

bool is_hf_checkpoint_dir(const std::string& dir) {
  const fs::path d(dir);
  return fs::is_directory(d) && fs::exists(d / "config.json") &&
         (fs::exists(d / "model.safetensors") || fs::exists(d / "model.safetensors.index.json"));
}

arch::CausalLM load_hf_checkpoint(const std::string& dir) {
  const fs::path d(dir);
  arch::CausalLM model(spec_from_hf_config((d / "config.json").string()));
  std::map<std::string, torch::Tensor> state;
  if (fs::exists(d / "model.safetensors.index.json")) {
    const std::string idx = (d / "model.safetensors.index.json").string();
    const OrderedJson j = parse_json(read_text_file(idx), idx, "index");
    const auto& map = json_field(j, "weight_map", idx, "index");
    std::set<std::string> shards;
    for (const auto& [name, file] : map.items()) shards.insert(file.get<std::string>());
    for (const auto& shard : shards)
      for (auto& [name, t] : read_safetensors((d / shard).string())) state[name] = t;
    for (const auto& [name, file] : map.items())
      if (!state.count(name)) throw ConfigError(idx + ": tensor '" + name + "' not found in " + file.get<std::string>());
  } else {
    state = read_safetensors((d / "model.safetensors").string());
  }
  // Tied checkpoints may still carry lm_head.weight (a copy of the embedding): drop it.
  if (model->spec().tie_embeddings) state.erase("lm_head.weight");
  // Rotary caches saved by older transformers versions are buffers, not weights.
  for (auto it = state.begin(); it != state.end();)
    it = it->first.find("rotary_emb.inv_freq") != std::string::npos ? state.erase(it) : std::next(it);
  arch::load_hf_state(model, state, dir);
  return model;
}

}  // namespace sharelab::eval
