// GGUF export of a LLaMA-style model (see gguf_export.h). Keys and types follow what
// convert_hf_to_gguf.py writes for LlamaForCausalLM with a SentencePiece tokenizer.model
// (llama.cpp reads most keys with a type check, so u32 vs i32 matters).
#include "runner/interop/gguf_export.h"

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "arch/weights.h"
#include "common/errors.h"
#include "runner/interop/gguf_writer.h"
#include "runner/interop/safetensors.h"

namespace sharelab::interop {

namespace {

using gguf::TensorType;
using gguf::Value;

struct Entry {
  std::string gguf_name, hf_name;
  int64_t rope_heads = 0;  // > 0: apply the Q/K permutation with this many heads
};

std::vector<Entry> tensor_table(const arch::ModelSpec& s) {
  std::vector<Entry> t;
  t.push_back({"token_embd.weight", "model.embed_tokens.weight"});
  for (int64_t i = 0; i < s.n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".", l = "model.layers." + std::to_string(i) + ".";
    t.push_back({b + "attn_norm.weight", l + "input_layernorm.weight"});
    t.push_back({b + "attn_q.weight", l + "self_attn.q_proj.weight", s.n_heads});
    t.push_back({b + "attn_k.weight", l + "self_attn.k_proj.weight", s.n_kv_heads});
    t.push_back({b + "attn_v.weight", l + "self_attn.v_proj.weight"});
    t.push_back({b + "attn_output.weight", l + "self_attn.o_proj.weight"});
    t.push_back({b + "ffn_norm.weight", l + "post_attention_layernorm.weight"});
    t.push_back({b + "ffn_gate.weight", l + "mlp.gate_proj.weight"});
    t.push_back({b + "ffn_up.weight", l + "mlp.up_proj.weight"});
    t.push_back({b + "ffn_down.weight", l + "mlp.down_proj.weight"});
  }
  t.push_back({"output_norm.weight", "model.norm.weight"});
  // Tied: llama.cpp falls back to token_embd when output.weight is absent.
  if (!s.tie_embeddings) t.push_back({"output.weight", "lm_head.weight"});
  return t;
}

uint32_t u32(int64_t v, const char* field) {
  if (v < 0 || v > int64_t(UINT32_MAX)) throw ConfigError(std::string("gguf export: ") + field + " " + std::to_string(v) + " does not fit in u32");
  return uint32_t(v);
}

void set_model_keys(gguf::Writer& w, const arch::ModelSpec& s, const GgufOptions& o, DiskDtype dtype) {
  w.set("general.architecture", Value::string("llama"));
  w.set("general.type", Value::string("model"));
  // A model loaded from a run may carry no preset name; llama.cpp only prints this.
  const std::string name = !o.name.empty() ? o.name : !s.name.empty() ? s.name : "sharelab-" + s.scheme;
  w.set("general.name", Value::string(name));
  w.set("llama.block_count", Value::u32(u32(s.n_layers, "n_layers")));
  w.set("llama.context_length", Value::u32(u32(s.max_seq_len, "max_seq_len")));
  w.set("llama.embedding_length", Value::u32(u32(s.d_model, "d_model")));
  w.set("llama.feed_forward_length", Value::u32(u32(s.ffn_dim, "ffn_dim")));
  w.set("llama.attention.head_count", Value::u32(u32(s.n_heads, "n_heads")));
  w.set("llama.attention.head_count_kv", Value::u32(u32(s.n_kv_heads, "n_kv_heads")));
  w.set("llama.rope.freq_base", Value::f32(float(s.rope_theta)));
  w.set("llama.attention.layer_norm_rms_epsilon", Value::f32(float(s.norm_eps)));
  w.set("llama.attention.key_length", Value::u32(u32(s.head_dim(), "head_dim")));
  w.set("llama.attention.value_length", Value::u32(u32(s.head_dim(), "head_dim")));
  // LLAMA_FTYPE: ALL_F32 0, MOSTLY_F16 1, MOSTLY_BF16 32.
  w.set("general.file_type", Value::u32(dtype == DiskDtype::kF32 ? 0 : dtype == DiskDtype::kF16 ? 1 : 32));
  w.set("llama.vocab_size", Value::u32(u32(s.vocab_size, "vocab_size")));
  w.set("llama.rope.dimension_count", Value::u32(u32(s.head_dim(), "head_dim")));
  w.set("general.quantization_version", Value::u32(2));  // GGML_QNT_VERSION
}

void set_vocab_keys(gguf::Writer& w, const data::SpmVocab& v, const GgufOptions& o) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const auto& p : v.pieces) {
    tokens.push_back(p.piece);
    scores.push_back(p.score);
    types.push_back(int32_t(p.type));  // llama_token_type uses SentencePiece's numbers
  }
  w.set("tokenizer.ggml.model", Value::string("llama"));  // SentencePiece (SPM) in llama.cpp's terms
  w.set("tokenizer.ggml.pre", Value::string("default"));
  w.set("tokenizer.ggml.tokens", Value::strings(tokens));
  w.set("tokenizer.ggml.scores", Value::f32s(scores));
  w.set("tokenizer.ggml.token_type", Value::i32s(types));
  if (v.bos_id >= 0) w.set("tokenizer.ggml.bos_token_id", Value::u32(uint32_t(v.bos_id)));
  if (v.eos_id >= 0) w.set("tokenizer.ggml.eos_token_id", Value::u32(uint32_t(v.eos_id)));
  if (v.unk_id >= 0) w.set("tokenizer.ggml.unknown_token_id", Value::u32(uint32_t(v.unk_id)));
  if (v.pad_id >= 0) w.set("tokenizer.ggml.padding_token_id", Value::u32(uint32_t(v.pad_id)));
  w.set("tokenizer.ggml.add_bos_token", Value::boolean(o.add_bos && v.bos_id >= 0));
  w.set("tokenizer.ggml.add_eos_token", Value::boolean(o.add_eos && v.eos_id >= 0));
  // The SentencePiece normaliser options llama.cpp's SPM tokenizer honours (default true both).
  w.set("tokenizer.ggml.add_space_prefix", Value::boolean(v.add_dummy_prefix));
  w.set("tokenizer.ggml.remove_extra_whitespaces", Value::boolean(v.remove_extra_whitespaces));
}

}  // namespace

torch::Tensor rope_permute(const torch::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0);
  TORCH_CHECK(rows % (2 * heads) == 0, "rope_permute: ", rows, " rows is not a multiple of 2 x ", heads, " heads");
  std::vector<int64_t> view{heads, 2, rows / heads / 2};
  for (int64_t d = 1; d < w.dim(); ++d) view.push_back(w.size(d));
  return w.reshape(view).transpose(1, 2).reshape(w.sizes());
}

torch::Tensor rope_unpermute(const torch::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0);
  TORCH_CHECK(rows % (2 * heads) == 0, "rope_unpermute: ", rows, " rows is not a multiple of 2 x ", heads, " heads");
  std::vector<int64_t> view{heads, rows / heads / 2, 2};
  for (int64_t d = 1; d < w.dim(); ++d) view.push_back(w.size(d));
  return w.reshape(view).transpose(1, 2).reshape(w.sizes());
}

void export_gguf(arch::CausalLM& model, const data::SpmVocab& vocab, const std::string& path,
                 const GgufOptions& options) {
  const DiskDtype dtype = parse_disk_dtype(options.dtype, "--dtype");
  const arch::ModelSpec& s = model->spec();
  if (int64_t(vocab.pieces.size()) != s.vocab_size)
    throw ConfigError(path + ": model vocab_size " + std::to_string(s.vocab_size) + " differs from the tokenizer's " +
                      std::to_string(vocab.pieces.size()) + " pieces (llama.cpp needs one row per token)");
  torch::NoGradGuard no_grad;
  const auto state = arch::hf_state(model);
  const auto table = tensor_table(s);

  gguf::Writer w;
  set_model_keys(w, s, options, dtype);
  set_vocab_keys(w, vocab, options);
  const TensorType wide = dtype == DiskDtype::kF32 ? TensorType::kF32
                          : dtype == DiskDtype::kF16 ? TensorType::kF16 : TensorType::kBF16;
  std::vector<bool> widened;
  for (const auto& e : table) {
    const torch::Tensor& t = state.at(e.hf_name);
    // As the converter: 1-D tensors (the RMSNorm gains) are stored F32 whatever the output type.
    widened.push_back(t.dim() <= 1);
    w.add_tensor(e.gguf_name, t.sizes().vec(), widened.back() ? TensorType::kF32 : wide);
  }
  const torch::ScalarType rounded = scalar_type(dtype);
  gguf::write_file(path, w, [&](size_t i, std::ostream& out) {
    // One tensor converted at a time; shared modules are read again for every layer using them.
    torch::Tensor t = state.at(table[i].hf_name).detach().to(torch::kCPU, torch::kFloat);
    if (table[i].rope_heads > 0) t = rope_permute(t, table[i].rope_heads);
    // Norms too are rounded to the export dtype before widening back to F32: the file then holds
    // exactly what convert_hf_to_gguf.py makes of our HF export in the same dtype (one set of
    // values per dtype across formats), at a cost (<= 2^-9 relative on a gain) nobody can measure.
    t = t.to(rounded);
    if (widened[i]) t = t.to(torch::kFloat);
    t = t.contiguous();
    out.write(static_cast<const char*>(t.data_ptr()), std::streamsize(t.numel() * t.element_size()));
  });
}

void export_gguf(arch::CausalLM& model, const data::SpmVocab& vocab, const std::string& path, const std::string& dtype) {
  GgufOptions o;
  o.dtype = dtype;
  export_gguf(model, vocab, path, o);
}

}  // namespace sharelab::interop
