// The model's elementwise stages as single-pass CPU kernels, each beside its composite LibTorch form.
// Why: at CPU widths these stages are memory-bound chains of small ops (RMSNorm is 6 ops forward and
// ~10 backward, RoPE with the head split ~12), each reading and writing the whole activation. The
// fused kernel reads and writes once. The composite form runs on CUDA and wherever the kernel does
// not apply (other dtypes), and it is the tests' oracle (tests/test_fused_ops.cpp).
#pragma once

#include <torch/torch.h>

#include <tuple>

namespace sharelab::kernels {

// HF LlamaRMSNorm: w * (x / sqrt(mean(x^2) + eps)), x (..., C) normalised in fp32.
// Fused for fp32 CPU input (the residual stream, in fp32 under autocast too).
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps);
torch::Tensor rms_norm_composite(const torch::Tensor& x, const torch::Tensor& w, double eps);

// The fused QKV projection's output (B, T, (H + 2G) D) split into heads with HF half-rotation RoPE
// on q and k and `q_scale` on q: q (B, G, R*T, D) (the R = H / G query heads of a group stacked on the
// time axis), k and v (B, G, T, D). cos, sin: (T, D) fp32. Fused for fp32 and bf16 CPU input
// (computed in fp32, rounded once).
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> split_heads_rope(const torch::Tensor& qkv,
                                                                         const torch::Tensor& cos,
                                                                         const torch::Tensor& sin, int64_t n_heads,
                                                                         int64_t n_kv_heads, double q_scale);
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> split_heads_rope_composite(
    const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& sin, int64_t n_heads,
    int64_t n_kv_heads, double q_scale);

// SwiGLU's activation on the fused gate/up product: silu(gate) * up for gate_up (..., 2F) = (gate, up),
// computed in fp32 and returned in gate_up's dtype, as (silu(gate.float()) * up).to(dtype). Fused for
// fp32 and bf16 CPU input: LibTorch 1.13's bf16 SiLU is not vectorised, so the composite form widens
// to fp32 and pays for the casts and the gate/up split in both directions.
torch::Tensor swiglu(const torch::Tensor& gate_up);
torch::Tensor swiglu_composite(const torch::Tensor& gate_up);

// Causal softmax over the last axis of scores (..., T, T): key j > query i is masked. The backward
// skips the mask (the softmax gradient is already 0 where the probability is), one pass less than
// masked_fill + softmax. Any device.
torch::Tensor causal_softmax(const torch::Tensor& scores);
torch::Tensor causal_softmax_composite(const torch::Tensor& scores);

// Off: every op takes its composite form (for A/B measurements; SHARELAB_FUSED=0 sets it at start).
void set_fused_ops_enabled(bool on);
bool fused_ops_enabled();

}  // namespace sharelab::kernels
