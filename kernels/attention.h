// The attention core of the model, after the head split and RoPE: one causal attention per kv group
// over its R query heads. Two forms: the composite one (two batched products around the fused causal
// softmax; the tuned CPU path) and LibTorch 2.x's scaled_dot_product_attention (flash / memory-
// efficient kernels on CUDA). tests/test_fused_ops.cpp checks them equal on the CPU.
#pragma once

#include <torch/torch.h>

namespace sharelab::kernels {

// q (B, G, R*T, D) already scaled by 1/sqrt(D), the R query heads of group g stacked on the time
// axis (split_heads_rope's layout); k, v (B, G, T, D) -> (B, T, H*D), H = G*R, head h = g*R + r.
// SDPA on CUDA where this LibTorch has it, the composite form otherwise.
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);
torch::Tensor causal_attention_composite(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);
// Incremental decoding: q (B, G, R*n, D) of n new positions past..past+n-1 (same layout, scaled),
// k, v (B, G, past + n, D) holding every position so far -> (B, n, H*D). New position t attends to
// keys 0..past+t: no mask for one token, a causal band for a chunk.
torch::Tensor cached_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int64_t past);
// Throws where LibTorch has no scaled_dot_product_attention (compat::kHasSdpa).
torch::Tensor causal_attention_sdpa(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

}  // namespace sharelab::kernels
