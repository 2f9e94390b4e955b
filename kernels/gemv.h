// Matrix-vector products for token-by-token decoding: y (r, O) = x (r, I) W^T with few rows r, fp32
// or bf16, on the CPU, outside autograd. Batch-1 decoding is bound by reading W once per token, and
// the general GEMMs LibTorch 1.13 reaches at one row run far below this CPU's memory bandwidth
// (bf16: 7 GB/s for the 125M model's 32000 x 576 output projection, measured with eager 1.13), so
// one pass over W, its output rows split over the threads, with AVX-512 FMAs (bf16 widened to fp32:
// the products are exact, as in a bf16 dot-product instruction) is what a decoder needs.
#pragma once

#include <torch/torch.h>

namespace sharelab::kernels {

constexpr int64_t kGemvMaxRows = 4;

// Whether gemv computes x W^T: CPU with AVX-512, no gradient wanted, x (..., I) with at most
// kGemvMaxRows rows and W (O, I) contiguous, both fp32 or both bf16.
bool gemv_applies(const torch::Tensor& x, const torch::Tensor& w);
torch::Tensor gemv(const torch::Tensor& x, const torch::Tensor& w);  // (..., I) -> (..., O), x's dtype

}  // namespace sharelab::kernels
