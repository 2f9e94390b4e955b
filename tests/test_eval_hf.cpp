// HF-format LLaMA checkpoints: a safetensors file this test writes itself (single and sharded,
// F32 and BF16), config.json -> ModelSpec, and the loaded model giving the original's logits.
// Also run-independent loading of a native weights file (eval::load_model_source).
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "arch/registry.h"
#include "arch/weights.h"
#include "runner/eval/hf_checkpoint.h"
#include "runner/eval/model_source.h"

using namespace sharelab;
using namespace sharelab::eval;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::path(SHARELAB_BINARY_DIR) / "test_eval_hf.tmp" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// The HF config.json of the debug preset with GQA (4 heads, 2 kv heads) and tied embeddings.
const char* kConfig = R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
  "intermediate_size": 176, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
  "vocab_size": 512, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "max_position_embeddings": 128,
  "tie_word_embeddings": true, "torch_dtype": "float32"})";

arch::CausalLM source_model() {
  arch::CausalLM m(arch::resolve_preset("debug", {"tie_embeddings=true"}));
  m->reset_parameters(3);
  m->eval();
  return m;
}

torch::Tensor logits(arch::CausalLM& m) {
  torch::NoGradGuard g;
  return m->forward(torch::arange(3, 40).unsqueeze(0));
}

}  // namespace

TEST_CASE("config.json -> ModelSpec") {
  const fs::path d = fresh_dir("config");
  write(d / "config.json", kConfig);
  const arch::ModelSpec s = spec_from_hf_config((d / "config.json").string());
  CHECK(s.d_model == 64);
  CHECK(s.n_heads == 4);
  CHECK(s.n_kv_heads == 2);
  CHECK(s.ffn_dim == 176);
  CHECK(s.n_layers == 4);
  CHECK(s.vocab_size == 512);
  CHECK(s.tie_embeddings);
  CHECK(s.max_seq_len == 128);
  CHECK(s.norm_eps == doctest::Approx(1e-5));
  write(d / "config.json", R"({"hidden_size": 64, "num_attention_heads": 4})");
  try {
    spec_from_hf_config((d / "config.json").string());
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("config.json: missing field 'intermediate_size'") != std::string::npos);
  }
}

TEST_CASE("single-file safetensors checkpoint loads and reproduces the logits") {
  auto src = source_model();
  const fs::path d = fresh_dir("single");
  write(d / "config.json", kConfig);
  auto state = arch::hf_state(src);
  state["lm_head.weight"] = state.at("model.embed_tokens.weight");  // tied copies may be present: ignored
  write_safetensors((d / "model.safetensors").string(), state);
  CHECK(is_hf_checkpoint_dir(d.string()));
  auto loaded = load_hf_checkpoint(d.string());
  CHECK(torch::allclose(logits(loaded), logits(src), 1e-5, 1e-5));
}

TEST_CASE("sharded safetensors checkpoint with an index") {
  auto src = source_model();
  const fs::path d = fresh_dir("sharded");
  write(d / "config.json", kConfig);
  std::map<std::string, torch::Tensor> a, b;
  std::string weight_map;
  for (const auto& [name, t] : arch::hf_state(src)) {
    const bool first = name.find("layers.0.") != std::string::npos || name.find("embed") != std::string::npos;
    (first ? a : b)[name] = t;
    weight_map += std::string(weight_map.empty() ? "" : ",") + "\"" + name + "\":\"" +
                  (first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors") + "\"";
  }
  write_safetensors((d / "model-00001-of-00002.safetensors").string(), a);
  write_safetensors((d / "model-00002-of-00002.safetensors").string(), b);
  write(d / "model.safetensors.index.json", "{\"metadata\":{\"total_size\":1},\"weight_map\":{" + weight_map + "}}");
  auto loaded = load_hf_checkpoint(d.string());
  CHECK(torch::allclose(logits(loaded), logits(src), 1e-5, 1e-5));
}

TEST_CASE("safetensors BF16 and F16 data, and a malformed header") {
  const fs::path d = fresh_dir("dtypes");
  // Header + raw little-endian data, written by hand: bf16 1.5 = 0x3FC0, -2.0 = 0xC000; f16 0.5 = 0x3800.
  const std::string header =
      R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"h":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}})";
  std::string bytes(8, '\0');
  bytes[0] = char(header.size());
  bytes += header;
  bytes += std::string("\xC0\x3F\x00\xC0\x00\x38", 6);
  write(d / "x.safetensors", bytes);
  const auto t = read_safetensors((d / "x.safetensors").string());
  CHECK(t.at("a")[0].item<float>() == 1.5f);
  CHECK(t.at("a")[1].item<float>() == -2.0f);
  CHECK(t.at("h")[0].item<float>() == 0.5f);
  write(d / "bad.safetensors", bytes.substr(0, 20));
  try {
    read_safetensors((d / "bad.safetensors").string());
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("bad.safetensors: header length") != std::string::npos);
  }
}

TEST_CASE("a native weights file loads with the spec it carries") {
  auto src = source_model();
  const fs::path d = fresh_dir("native");
  arch::save_weights(src, (d / "w.h5").string());
  const ModelSource s = load_model_source((d / "w.h5").string());
  CHECK(s.kind == "native");
  CHECK(s.run_id == "file:w");
  CHECK(torch::allclose(logits(const_cast<arch::CausalLM&>(s.model)), logits(src)));
  CHECK_THROWS_AS(load_model_source((d / "missing").string()), ConfigError);
}

TEST_CASE("a run directory resolves through its 'latest' pointer") {
  auto src = source_model();
  const fs::path d = fresh_dir("run-0123abcd");
  arch::save_weights(src, (d / "ckpt-3.h5").string());
  write(d / "latest", "ckpt-3.h5\n");
  const ModelSource s = load_model_source(d.string());
  CHECK(s.kind == "run");
  CHECK(s.run_id == "run-0123abcd");
  CHECK(s.checkpoint == (d / "ckpt-3.h5").string());
  CHECK(torch::allclose(logits(const_cast<arch::CausalLM&>(s.model)), logits(src)));
  // A checkpoint file inside a run directory belongs to that run.
  CHECK(load_model_source((d / "ckpt-3.h5").string()).run_id == "run-0123abcd");
  write(d / "latest", "ckpt-9.h5\n");
  try {
    load_model_source(d.string());
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("latest: names checkpoint 'ckpt-9.h5', which does not exist") !=
          std::string::npos);
  }
}
