// HF model directories: safetensors files (single and sharded, F32/BF16/F16), config.json both
// ways, the export of every sharing scheme restoring its unique parameters exactly, bad
// directories, the SentencePiece vocabulary and tokenizer.json. Also eval::load_model_source over
// native files and run directories. transformers itself checks the same files in hf_interop.sh.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "common/errors.h"
#include "arch/registry.h"
#include "arch/weights.h"
#include "runner/data/spm_vocab.h"
#include "runner/eval/model_source.h"
#include "runner/interop/hf_config.h"
#include "runner/interop/hf_dir.h"
#include "runner/interop/hf_tokenizer.h"
#include "runner/interop/safetensors.h"

using namespace sharelab;
using namespace sharelab::eval;
using namespace sharelab::interop;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::path(SHARELAB_BINARY_DIR) / "test_interop.tmp" / name;
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
  CHECK(is_hf_dir(d.string()));
  auto loaded = load_hf_dir(d.string());
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
  auto loaded = load_hf_dir(d.string());
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

namespace {

const std::string kLlamaTokenizer = std::string(SHARELAB_SOURCE_DIR) + "/../shared/data/mobilellm/tokenizer.model";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

arch::CausalLM scheme_model(const std::vector<std::string>& sets) {
  arch::CausalLM m(arch::resolve_preset("debug", sets));
  m->reset_parameters(11);
  m->eval();
  return m;
}

}  // namespace

TEST_CASE("every sharing scheme exports dense and comes back with its unique parameters exactly") {
  const std::vector<std::vector<std::string>> cases = {
      {}, {"scheme=shared-ffn"}, {"scheme=shared-block"}, {"scheme=immediate", "repeats=2"},
      {"scheme=repeat-all-over", "repeats=2"}, {"scheme=reverse", "repeats=2"}, {"scheme=cycle", "unique_blocks=2"},
      {"tie_embeddings=true", "n_kv_heads=1"}};
  for (const auto& sets : cases) {
    auto src = scheme_model(sets);
    CAPTURE(src->spec().scheme);
    const fs::path d = fresh_dir("scheme") / "hf";
    export_hf_dir(src, d.string(), {});
    CHECK(is_hf_dir(d.string()));
    // Stock loaders see every layer: materialised tensors = HF view of the model.
    CHECK(read_safetensors_shapes((d / "model.safetensors").string()).size() == arch::hf_state(src).size());
    auto back = load_hf_dir(d.string());
    CHECK(back->spec().scheme == src->spec().scheme);
    CHECK(back->spec().tie_embeddings == src->spec().tie_embeddings);
    const auto a = arch::native_state(src), b = arch::native_state(back);
    REQUIRE(a.size() == b.size());
    for (const auto& [name, t] : a) CHECK(torch::equal(t, b.at(name)));
  }
}

TEST_CASE("sharded and half-precision exports") {
  auto src = scheme_model({"scheme=shared-ffn"});
  const fs::path root = fresh_dir("sharded-export");
  HfExportOptions opt;
  opt.max_shard_bytes = 40000;  // the debug model is ~0.4 MB in fp32: several shards
  export_hf_dir(src, (root / "f32").string(), opt);
  CHECK(fs::exists(root / "f32" / "model.safetensors.index.json"));
  CHECK_FALSE(fs::exists(root / "f32" / "model.safetensors"));
  CHECK(fs::exists(root / "f32" / "model-00002-of-00010.safetensors") ==
        fs::exists(root / "f32" / "model-00010-of-00010.safetensors"));
  auto back = load_hf_dir((root / "f32").string());
  for (const auto& [name, t] : arch::native_state(src)) CHECK(torch::equal(t, arch::native_state(back).at(name)));

  opt.dtype = DiskDtype::kBF16;
  export_hf_dir(src, (root / "bf16").string(), opt);
  auto half = load_hf_dir((root / "bf16").string());
  for (const auto& [name, t] : arch::native_state(src))
    CHECK(torch::equal(t.to(torch::kBFloat16).to(torch::kFloat), arch::native_state(half).at(name)));
  std::ifstream cfg(root / "bf16" / "config.json");
  const std::string text((std::istreambuf_iterator<char>(cfg)), std::istreambuf_iterator<char>());
  CHECK(text.find("\"torch_dtype\": \"bfloat16\"") != std::string::npos);
  CHECK(parse_disk_dtype("fp16", "--dtype") == DiskDtype::kF16);
  CHECK(error_of([] { parse_disk_dtype("int8", "--dtype"); }) == "--dtype = 'int8': expected f32, bf16 or f16");
}

TEST_CASE("bad HF directories: one-line errors naming the file and the field") {
  auto src = scheme_model({});
  const fs::path root = fresh_dir("bad");
  const fs::path d = root / "hf";
  HfExportOptions opt;
  opt.max_shard_bytes = 100000;
  export_hf_dir(src, d.string(), opt);
  // A missing shard.
  std::string second;
  for (const auto& e : fs::directory_iterator(d))
    if (e.path().filename().string().rfind("model-00002-of-", 0) == 0) second = e.path().filename().string();
  REQUIRE(!second.empty());
  fs::rename(d / second, root / "moved.safetensors");
  const std::string missing = error_of([&] { load_hf_dir(d.string()); });
  CHECK(missing.find("model.safetensors.index.json: field 'weight_map.") != std::string::npos);
  CHECK(missing.find("names shard '" + second + "', which is missing") != std::string::npos);
  fs::rename(root / "moved.safetensors", d / second);
  // Config and tensors disagree.
  auto cfg = [&](const std::string& from, const std::string& to) {
    std::ifstream in(d / "config.json");
    std::string t((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    write(d / "config.json", t.substr(0, at) + to + t.substr(at + from.size()));
  };
  cfg("\"intermediate_size\": 176", "\"intermediate_size\": 180");
  const std::string e = error_of([&] { load_hf_dir(d.string()); });
  CHECK(e.find(".safetensors: tensor 'model.layers.") != std::string::npos);
  CAPTURE(e);
  CHECK(e.find("has shape [64, 176], but " + (d / "config.json").string() + " implies [64, 180]") != std::string::npos);
  cfg("\"intermediate_size\": 180", "\"intermediate_size\": 176");
  cfg("\"LlamaForCausalLM\"", "\"MistralForCausalLM\"");
  CHECK(error_of([&] { load_hf_dir(d.string()); }) ==
        (d / "config.json").string() + ": field 'architectures' is [\"MistralForCausalLM\"], expected [\"LlamaForCausalLM\"]");
  cfg("\"MistralForCausalLM\"", "\"LlamaForCausalLM\"");
  cfg("\"rope_type\": \"default\"", "\"rope_type\": \"yarn\"");
  CHECK(error_of([&] { load_hf_dir(d.string()); }).find("field 'rope_parameters.rope_type' is \"yarn\"") != std::string::npos);
  cfg("\"rope_type\": \"yarn\"", "\"rope_type\": \"default\"");
  // A sharing layout that does not match the scheme's.
  cfg("\"scheme\": \"none\"", "\"scheme\": \"shared-ffn\"");
  CHECK(error_of([&] { load_hf_dir(d.string()); }).find("field 'sharelab.layout' differs from scheme 'shared-ffn'") !=
        std::string::npos);
  // A failed export leaves nothing behind and keeps the old directory.
  auto big = scheme_model({"vocab_size=600"});
  write(root / "not-a-tokenizer.model", "junk");
  opt.tokenizer = (root / "not-a-tokenizer.model").string();
  CHECK(error_of([&] { export_hf_dir(big, d.string(), opt); }).find("not a SentencePiece model") != std::string::npos);
  CHECK(fs::exists(d / "config.json"));
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e2 : fs::directory_iterator(root)) ++entries;
  CHECK(entries == 2);  // hf/ and the junk tokenizer: no temporary folder
  write(root / "file", "x");
  CHECK(error_of([&] { export_hf_dir(src, (root / "file").string(), {}); }).find("exists and is not a directory") !=
        std::string::npos);
}

TEST_CASE("a transformers-5 config: rope_parameters, dtype, no sharelab key") {
  const fs::path d = fresh_dir("v5");
  write(d / "config.json", R"({"architectures": ["LlamaForCausalLM"], "attention_bias": false, "dtype": "float32",
    "head_dim": 16, "hidden_act": "silu", "hidden_size": 64, "intermediate_size": 176, "model_type": "llama",
    "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
    "rope_parameters": {"rope_theta": 50000.0, "rope_type": "default"}, "tie_word_embeddings": true,
    "vocab_size": 512, "mlp_bias": false, "pad_token_id": null})");
  const auto s = spec_from_hf_config((d / "config.json").string());
  CHECK(s.rope_theta == 50000.0);
  CHECK(s.scheme == "none");
  CHECK(s.norm_eps == doctest::Approx(1e-6));
  CHECK(s.tie_embeddings);
}

TEST_CASE("SentencePiece vocabulary and tokenizer.json of LLaMA's tokenizer.model") {
  if (!fs::exists(kLlamaTokenizer)) {
    MESSAGE("skipped: ", kLlamaTokenizer, " not found");
    return;
  }
  const auto v = data::read_spm_vocab(kLlamaTokenizer);
  CHECK(v.pieces.size() == 32000);
  CHECK(v.model_type == data::SpmVocab::ModelType::kBpe);
  CHECK(v.byte_fallback);
  CHECK(v.bos_id == 1);
  CHECK(v.eos_id == 2);
  CHECK(v.unk_id == 0);
  CHECK(v.pad_id == -1);
  CHECK(v.pieces[0].piece == "<unk>");
  CHECK(v.pieces[0].type == data::SpmPieceType::kUnknown);
  CHECK(v.pieces[1].type == data::SpmPieceType::kControl);
  CHECK(v.pieces[3].piece == "<0x00>");
  CHECK(v.pieces[3].type == data::SpmPieceType::kByte);
  CHECK(v.pieces[259].piece == "\u2581\u2581");
  CHECK_FALSE(v.remove_extra_whitespaces);
  CHECK(v.add_dummy_prefix);
  const auto j = hf_tokenizer_json(v, kLlamaTokenizer);
  CHECK(j["model"]["type"] == "BPE");
  CHECK(j["model"]["vocab"].size() == 32000);
  // The first merges of LLaMA-2's own tokenizer.json: "▁ t", "e r", "i n".
  CHECK(j["model"]["merges"][0] == nlohmann::json::array({"\u2581", "t"}));
  CHECK(j["model"]["merges"][1] == nlohmann::json::array({"e", "r"}));
  CHECK(j["model"]["merges"][2] == nlohmann::json::array({"i", "n"}));
  CHECK(error_of([] { data::read_spm_vocab(std::string(SHARELAB_SOURCE_DIR) + "/README.md"); }).find(
            "README.md: not a SentencePiece model") != std::string::npos);
}
