// HF LLaMA config.json both ways (see hf_config.h).
#include "runner/interop/hf_config.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "arch/accounting.h"
#include "common/errors.h"
#include "common/json_error.h"

namespace sharelab::interop {

using nlohmann::json;
using OJson = nlohmann::ordered_json;

namespace {

constexpr int kSharelabKeyVersion = 1;
// Bounds on config.json's integers: int32 as transformers stores them, and a depth no LLaMA comes
// near (the per-layer tables are allocated from it before any weight is read).
constexpr int64_t kMaxField = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxLayers = 4096;

OJson layout_json(const arch::ModelSpec& s) {
  const auto l = s.layout();
  return OJson{{"attn_of", l.attn_of}, {"ffn_of", l.ffn_of}, {"attn_norm_of", l.attn_norm_of},
               {"ffn_norm_of", l.ffn_norm_of}};
}

}  // namespace

OJson hf_config_json(const arch::ModelSpec& s, const SpecialTokens& tok, const std::string& torch_dtype) {
  OJson c;
  c["architectures"] = {"LlamaForCausalLM"};
  c["model_type"] = "llama";
  c["vocab_size"] = s.vocab_size;
  c["hidden_size"] = s.d_model;
  c["intermediate_size"] = s.ffn_dim;
  c["num_hidden_layers"] = s.n_layers;  // executed depth: shared modules are materialised per layer
  c["num_attention_heads"] = s.n_heads;
  c["num_key_value_heads"] = s.n_kv_heads;
  c["head_dim"] = s.head_dim();
  c["hidden_act"] = "silu";
  c["max_position_embeddings"] = s.max_seq_len;
  c["initializer_range"] = s.init_std;
  c["rms_norm_eps"] = s.norm_eps;
  // transformers < 5 reads rope_theta, 5.x rope_parameters; both name the same plain RoPE.
  c["rope_theta"] = s.rope_theta;
  c["rope_parameters"] = {{"rope_theta", s.rope_theta}, {"rope_type", "default"}};
  c["rope_scaling"] = nullptr;
  c["attention_bias"] = false;
  c["attention_dropout"] = 0.0;
  c["mlp_bias"] = false;
  c["pretraining_tp"] = 1;
  c["tie_word_embeddings"] = s.tie_embeddings;
  c["bos_token_id"] = tok.bos;
  c["eos_token_id"] = tok.eos;
  c["pad_token_id"] = tok.pad >= 0 ? OJson(tok.pad) : OJson(nullptr);
  c["use_cache"] = true;
  c["torch_dtype"] = torch_dtype;  // transformers < 5
  c["dtype"] = torch_dtype;        // transformers 5
  const auto unique = arch::unique_params(s), used = arch::effective_params(s);
  c["sharelab"] = {{"version", kSharelabKeyVersion},
                   {"preset", s.name},
                   {"scheme", s.scheme},
                   {"repeats", s.repeats},
                   {"unique_blocks", s.unique_blocks},
                   {"params_unique", unique.total()},
                   {"params_materialized", used.total()},
                   {"layout", layout_json(s)}};
  return c;
}

OJson hf_generation_config_json(const SpecialTokens& tok) {
  OJson g;
  g["bos_token_id"] = tok.bos;
  g["eos_token_id"] = tok.eos;
  if (tok.pad >= 0) g["pad_token_id"] = tok.pad;
  g["do_sample"] = false;
  return g;
}

namespace {

struct ConfigReader {
  const json& c;
  const std::string& path;

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ConfigError(path + ": field '" + field + "' " + what);
  }
  bool has(const char* key) const { return c.contains(key) && !c[key].is_null(); }
  double num(const char* key, bool required, double fallback) const {
    if (!has(key)) {
      if (required) throw ConfigError(path + ": missing field '" + std::string(key) + "'");
      return fallback;
    }
    if (!c[key].is_number()) fail(key, "must be a number, not " + c[key].dump());
    return c[key].get<double>();
  }
  // An integer in [-max, max] (JSON numbers arrive as doubles: 1e99 must not reach int64_t).
  int64_t integer(const char* key, bool required, int64_t fallback, int64_t max = kMaxField) const {
    const double v = num(key, required, double(fallback));
    if (!(std::fabs(v) <= double(max)) || v != std::floor(v))
      fail(key, "must be an integer of at most " + std::to_string(max) + ", not " + c[key].dump());
    return int64_t(v);
  }
  // A field the model cannot honour unless it has the value it expects.
  void expect(const char* key, const json& want, const std::string& why) const {
    if (has(key) && c[key] != want) fail(key, "is " + c[key].dump() + ", expected " + want.dump() + " (" + why + ")");
  }
};

void restore_sharing(arch::ModelSpec& s, const json& k, const std::string& path) {
  auto field = [&](const char* key) -> const json& {
    if (!k.contains(key)) throw ConfigError(path + ": field 'sharelab." + std::string(key) + "' is missing");
    return k[key];
  };
  if (!k.is_object() || !field("version").is_number_integer() || field("version").get<int>() != kSharelabKeyVersion)
    throw ConfigError(path + ": field 'sharelab.version' is not " + std::to_string(kSharelabKeyVersion));
  try {
    s.scheme = field("scheme").get<std::string>();
    // get<int64_t>() of a float such as 1e99 would be an out-of-range conversion: integers only.
    for (const char* key : {"repeats", "unique_blocks"}) {
      const json& v = field(key);
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxLayers)
        throw ConfigError(path + ": field 'sharelab." + key + "' is " + v.dump() + ", expected an integer in [0, " +
                          std::to_string(kMaxLayers) + "]");
    }
    s.repeats = field("repeats").get<int64_t>();
    s.unique_blocks = field("unique_blocks").get<int64_t>();
    if (k.contains("preset") && k["preset"].is_string()) s.name = k["preset"].get<std::string>();
  } catch (const json::exception& e) {
    throw ConfigError(path + ": field 'sharelab' has a mistyped entry (" + json_error_reason(e) + ")");
  }
  try {
    s.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": field 'sharelab': " + e.what());
  }
  const OJson want = layout_json(s);
  if (json::parse(want.dump()) != field("layout"))
    throw ConfigError(path + ": field 'sharelab.layout' differs from scheme '" + s.scheme + "' over " +
                      std::to_string(s.n_layers) + " layers (expected " + want.dump() + ")");
}

}  // namespace

json read_json_file(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": not found (" + what + ")");
  try {
    return json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e505
    throw ConfigError(path + ": not valid JSON (" + json_error_reason(e) + ")");
  }
}

arch::ModelSpec spec_from_hf_config(const std::string& path) {
  const json c = read_json_file(path, "an HF model directory needs config.json");
  if (!c.is_object()) throw ConfigError(path + ": not a JSON object");
  const ConfigReader r{c, path};
  if (r.has("model_type") && c["model_type"] != "llama" && c["model_type"] != "mobillama")
    r.fail("model_type", "is " + c["model_type"].dump() + ", expected \"llama\" (only LLaMA models are supported)");
  if (r.has("architectures")) {
    const json& a = c["architectures"];
    if (!a.is_array() || a.size() != 1 || !a[0].is_string() ||
        (a[0] != "LlamaForCausalLM" && a[0] != "MobiLlamaForCausalLM"))
      r.fail("architectures", "is " + a.dump() + ", expected [\"LlamaForCausalLM\"]");
  }
  r.expect("hidden_act", "silu", "the model is SwiGLU");
  r.expect("attention_bias", false, "the projections have no bias");
  r.expect("mlp_bias", false, "the projections have no bias");
  r.expect("rope_scaling", nullptr, "plain RoPE only");
  arch::ModelSpec s;
  s.name = "hf:" + std::filesystem::path(path).parent_path().filename().string();
  s.d_model = r.integer("hidden_size", true, 0);
  s.n_heads = r.integer("num_attention_heads", true, 0);
  s.n_kv_heads = r.integer("num_key_value_heads", false, s.n_heads);
  s.ffn_dim = r.integer("intermediate_size", true, 0);
  s.n_layers = r.integer("num_hidden_layers", true, 0, kMaxLayers);
  s.vocab_size = r.integer("vocab_size", true, 0);
  s.norm_eps = r.num("rms_norm_eps", false, 1e-6);
  s.rope_theta = r.num("rope_theta", false, 10000.0);
  if (r.has("rope_parameters")) {
    const json& rp = c["rope_parameters"];
    if (!rp.is_object()) r.fail("rope_parameters", "must be an object");
    if (rp.contains("rope_type") && rp["rope_type"] != "default")
      r.fail("rope_parameters.rope_type", "is " + rp["rope_type"].dump() + ", expected \"default\" (plain RoPE only)");
    if (rp.contains("rope_theta")) {
      if (!rp["rope_theta"].is_number()) r.fail("rope_parameters.rope_theta", "must be a number");
      s.rope_theta = rp["rope_theta"].get<double>();
    }
  }
  s.max_seq_len = r.integer("max_position_embeddings", false, 2048);
  s.init_std = r.num("initializer_range", false, 0.02);
  if (r.has("tie_word_embeddings") && !c["tie_word_embeddings"].is_boolean())
    r.fail("tie_word_embeddings", "must be true or false");
  // transformers' default is tied, but LlamaConfig sets it to false.
  s.tie_embeddings = r.has("tie_word_embeddings") && c["tie_word_embeddings"].get<bool>();
  if (r.has("head_dim") && s.n_heads > 0 && r.integer("head_dim", false, 0) != s.d_model / s.n_heads)
    r.fail("head_dim", "is " + c["head_dim"].dump() + ", expected hidden_size / num_attention_heads = " +
                           std::to_string(s.d_model / s.n_heads));
  try {
    s.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
  if (c.contains("sharelab")) restore_sharing(s, c["sharelab"], path);
  return s;
}

}  // namespace sharelab::interop
