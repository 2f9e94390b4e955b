// Matrix products with the fp32 CPU ones routed to oneDNN's sgemm where the build has it.
// Why: Debian's OpenBLAS 0.3.21 (LibTorch's BLAS here) does not know Zen 4/5 and runs its Haswell
// AVX2 kernels on them; oneDNN's JIT sgemm (already loaded by LibTorch) uses AVX-512 and measured
// 1.8-2.3x the GFLOP/s on this project's CPU at the model's shapes; for the attention's small
// batched products LibTorch's fp32 bmm is slower still (15 ms vs 3 ms forward + backward per layer
// at B 8, 4 heads, T 256, D 64).
// bf16 (autocast or bf16 weights) and CUDA go to LibTorch's own linear unchanged.
#pragma once

#include <torch/torch.h>

namespace sharelab::kernels {

// x (..., in), w (out, in) -> (..., out). Differentiable in both arguments.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w);

// a (..., M, K) @ b (..., K, N) -> (..., M, N) with equal leading axes (no broadcasting).
// Differentiable in both arguments; transposed views are read in place, not copied.
torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b);

// True when this build calls oneDNN for fp32 CPU products (SHARELAB_DNNL at configure time).
bool onednn_sgemm_enabled();

// The raw product on contiguous row-major fp32 CPU buffers: C (M x N) = op(A) op(B), op = transpose
// when the flag is set (BLAS semantics, row-major). Falls back to at::mm without oneDNN.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace sharelab::kernels
