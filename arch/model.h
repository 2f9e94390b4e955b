// The LibTorch LLaMA (HF LlamaForCausalLM semantics) with sharing by index maps.
// Pools of unique modules are registered once, at CausalLMImpl; each executed layer (slot) holds
// borrowed, unregistered handles into the pools, so parameters() yields every tensor once
// (LibTorch does not de-duplicate a module registered twice: STYLE.md section 4).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "arch/model_spec.h"

namespace sharelab::arch {

// --- building blocks --------------------------------------------------------------------------

// RMSNorm as HF LlamaRMSNorm: normalise in fp32, cast back, then scale.
struct RMSNormImpl : torch::nn::Module {
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);  // (..., dim)
  torch::Tensor weight;                           // (dim)
  double eps;
};
TORCH_MODULE(RMSNorm);

// Rotary tables for the HF half-rotation convention: (T, head_dim) cos and sin.
struct Rope {
  torch::Tensor cos, sin;
};
Rope make_rope(int64_t seq, int64_t head_dim, double theta, const torch::Device& device);

// Keys and values of every executed layer for incremental decoding: one entry per slot, whatever
// the sharing (a block run twice sees different inputs at its two depths), while the weights stay
// one per unique module. Filled by CausalLMImpl::forward_cached; make one with new_cache.
struct KVCache {
  std::vector<torch::Tensor> k, v;  // per slot (B, G, capacity, D), allocated on first use
  Rope rope;                        // (capacity, D) tables, sliced per call
  int64_t length = 0;               // positions filled so far
  int64_t capacity = 0;
};

// Causal grouped-query attention. K/V are not repeated: the r = n_heads / n_kv_heads query heads of
// a group are folded into the sequence axis and share one K/V matmul.
struct AttentionImpl : torch::nn::Module {
  explicit AttentionImpl(const ModelSpec& s);
  torch::Tensor forward(const torch::Tensor& x, const Rope& rope);  // (B, T, C) -> (B, T, C)
  // x (B, n, C) at positions past..past+n-1 (rope: those rows); appends its K/V to k_cache/v_cache.
  torch::Tensor forward_cached(const torch::Tensor& x, const Rope& rope, torch::Tensor& k_cache,
                               torch::Tensor& v_cache, int64_t past, int64_t capacity);
  torch::nn::Linear wq{nullptr}, wk{nullptr}, wv{nullptr}, wo{nullptr};
  int64_t n_heads, n_kv_heads, head_dim;
};
TORCH_MODULE(Attention);

// SwiGLU: w2(silu(w1 x) * w3 x); HF names gate_proj = w1, up_proj = w3, down_proj = w2.
struct SwiGLUImpl : torch::nn::Module {
  SwiGLUImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);  // (B, T, C) -> (B, T, C)
  torch::nn::Linear w1{nullptr}, w2{nullptr}, w3{nullptr};
};
TORCH_MODULE(SwiGLU);

// --- the model --------------------------------------------------------------------------------

// Called before (begin = true) and after each executed layer with its slot index: profiling hooks.
using SlotHook = std::function<void(int64_t slot, bool begin)>;

struct CausalLMImpl : torch::nn::Module {
  explicit CausalLMImpl(const ModelSpec& spec);

  // tokens (B, T) int64 -> logits (B, T, vocab). Under bf16 autocast the logits are bf16.
  torch::Tensor forward(const torch::Tensor& tokens);
  // Incremental forward: tokens (B, n) continue the cache's sequence; returns their logits (B, n, V),
  // equal to forward() on the whole sequence at those positions. A prompt goes in as one chunk
  // (prefill), then one token per call. `logits`: kAll (B, n, V); kLast, the last position's only
  // (B, 1, V), all that generation needs; kNone, none (an undefined tensor): a prefix whose
  // continuations are scored later (eval's shared contexts). At past 0 the attention is forward()'s
  // full causal one, which is faster than the cached form for long prompts.
  enum class Logits { kAll, kLast, kNone };
  torch::Tensor forward_cached(const torch::Tensor& tokens, KVCache& cache, Logits logits = Logits::kAll);
  KVCache new_cache(int64_t capacity, const torch::Device& device) const;  // capacity <= max_seq_len
  // Whether forward_cached takes one token through the batch-1 decode kernel (kernels/decode_step.h,
  // arch/model_decode.cpp) rather than LibTorch's operators: the token, parameters and cache on an
  // AVX-512 CPU in one dtype (fp32 or bf16), outside autograd and autocast, with the fused kernels on
  // (SHARELAB_FUSED=0 turns it off with them).
  bool decode_step_applies(const torch::Tensor& tokens, const KVCache& cache) const;
  // Mean next-token cross-entropy in fp32: inputs (B, T), targets (B, T); targets < 0 are ignored.
  torch::Tensor loss(const torch::Tensor& inputs, const torch::Tensor& targets);

  // Re-draw all weights: N(0, init_std), output projections N(0, init_std / sqrt(2 n_layers)),
  // norms 1. Runs once per unique owner, so a shared module is initialised exactly once.
  void reset_parameters(uint64_t seed);

  void set_slot_hook(SlotHook hook) { hook_ = std::move(hook); }
  const ModelSpec& spec() const { return spec_; }
  const ModelSpec::Layout& layout() const { return layout_; }

  torch::nn::Embedding tok_emb{nullptr};
  torch::nn::ModuleList attn{nullptr}, ffn{nullptr}, attn_norm{nullptr}, ffn_norm{nullptr};
  RMSNorm norm{nullptr};
  torch::nn::Linear lm_head{nullptr};  // absent when tie_embeddings

 private:
  struct Slot {  // borrowed handles; the owners are registered in the pools above
    RMSNorm attn_norm{nullptr};
    Attention attn{nullptr};
    RMSNorm ffn_norm{nullptr};
    SwiGLU ffn{nullptr};
  };
  ModelSpec spec_;
  ModelSpec::Layout layout_;
  std::vector<Slot> slots_;
  SlotHook hook_;
  torch::Tensor decode_step(const torch::Tensor& tokens, KVCache& cache, Logits logits);
};
TORCH_MODULE(CausalLM);

// Total elements of model.parameters() and of the distinct tensors among them (equal when nothing
// is registered twice).
int64_t count_parameters(torch::nn::Module& m);
int64_t count_distinct_parameters(torch::nn::Module& m);

}  // namespace sharelab::arch
