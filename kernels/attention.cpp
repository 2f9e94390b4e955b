// Shapes: B batch, G kv heads, R query heads per kv head, T time, D head_dim.
#include "kernels/attention.h"

#include "kernels/cpu_gemm.h"
#include "kernels/fused_ops.h"
#include "kernels/torch_compat.h"

#include <limits>

namespace sharelab::kernels {

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  if (compat::kHasSdpa && q.is_cuda()) return causal_attention_sdpa(q, k, v);
  return causal_attention_composite(q, k, v);
}

torch::Tensor causal_attention_composite(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t B = k.size(0), G = k.size(1), T = k.size(2), D = k.size(3), R = q.size(2) / T;
  auto scores = kernels::matmul(q, k.transpose(-1, -2));  // (B, G, R*T, T): heads of a group share K/V
  // Softmax in the scores' dtype: LibTorch's CPU softmax accumulates bf16 in fp32 and rounds once,
  // the values of HF's softmax(fp32).to(bf16), without writing an fp32 (B, G, R, T, T) tensor.
  auto probs = causal_softmax(scores.view({B, G, R, T, T})).view({B, G, R * T, T});
  return kernels::matmul(probs, v)  // (B, G, R*T, D)
      .view({B, G, R, T, D})
      .permute({0, 3, 1, 2, 4})  // (B, T, G, R, D)
      .reshape({B, T, G * R * D});
}

torch::Tensor cached_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int64_t past) {
  const int64_t B = k.size(0), G = k.size(1), L = k.size(2), D = k.size(3), n = L - past, R = q.size(2) / n;
  auto scores = kernels::matmul(q, k.transpose(-1, -2)).view({B, G, R, n, L});  // (B, G, R, n, L)
  if (n > 1) {
    const auto opts = torch::TensorOptions().dtype(torch::kInt64).device(q.device());
    const auto future = torch::arange(L, opts).unsqueeze(0) > (torch::arange(n, opts) + past).unsqueeze(1);  // (n, L)
    scores = scores.masked_fill(future, -std::numeric_limits<double>::infinity());
  }
  // As causal_softmax: in the scores' dtype (LibTorch's CPU softmax accumulates bf16 in fp32).
  return kernels::matmul(torch::softmax(scores, -1).view({B, G, R * n, L}), v)  // (B, G, R*n, D)
      .view({B, G, R, n, D})
      .permute({0, 3, 1, 2, 4})  // (B, n, G, R, D)
      .reshape({B, n, G * R * D});
}

torch::Tensor causal_attention_sdpa(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t B = k.size(0), G = k.size(1), T = k.size(2), D = k.size(3), R = q.size(2) / T;
  const auto qh = q.reshape({B, G * R, T, D});  // (B, H, T, D): the stacked layout is already head-major
  return compat::sdpa_causal(qh, k, v, /*scale=*/1.0)  // (B, H, T, D); q carries 1/sqrt(D)
      .transpose(1, 2)                                  // (B, T, H, D)
      .reshape({B, T, G * R * D});
}

}  // namespace sharelab::kernels
