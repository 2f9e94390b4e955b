// Shapes: n products per batch, each (M, K) x (K, N); linear is a batch of one, x (N, I) W^T (I, O).
#include "kernels/cpu_gemm.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "kernels/gemv.h"
#include "kernels/torch_compat.h"

#ifdef SHARELAB_DNNL
#include <dnnl.h>
#endif

namespace sharelab::kernels {

bool onednn_sgemm_enabled() {
#ifdef SHARELAB_DNNL
  return true;
#else
  return false;
#endif
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
#ifdef SHARELAB_DNNL
  // oneDNN's GEMM API is row-major (unlike BLAS) and threads with LibTorch's OpenMP pool.
  const dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, 1.0f, A, lda, B, ldb, beta,
                                      C, ldc);
  TORCH_CHECK(st == dnnl_success, "dnnl_sgemm failed with status ", int(st));
#else
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  auto a = torch::from_blob(const_cast<float*>(A), {trans_a ? K : M, trans_a ? M : K}, {lda, 1}, f32);
  auto b = torch::from_blob(const_cast<float*>(B), {trans_b ? N : K, trans_b ? K : N}, {ldb, 1}, f32);
  auto c = torch::from_blob(C, {M, N}, {ldc, 1}, f32);
  c.addmm_(trans_a ? a.t() : a, trans_b ? b.t() : b, beta, 1.0);
#endif
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// A batch of row-major matrices as sgemm reads them: either as stored or as the transpose of a
// contiguous matrix (a .transpose(-1, -2) view), each at `batch_stride` from the previous one.
struct GemmOperand {
  torch::Tensor t;  // 3-D: (batch, rows, cols) as the product sees it
  bool trans = false;
  int64_t ld = 0, batch_stride = 0;
};

GemmOperand operand(const torch::Tensor& x3) {
  const int64_t r = x3.size(1), c = x3.size(2);
  if (x3.stride(2) == 1 && x3.stride(1) >= std::max<int64_t>(c, 1)) return {x3, false, x3.stride(1), x3.stride(0)};
  if (x3.stride(1) == 1 && x3.stride(2) >= std::max<int64_t>(r, 1)) return {x3, true, x3.stride(2), x3.stride(0)};
  auto c3 = x3.contiguous();
  return {c3, false, c, r * c};
}

// out (batch, M, N) = a (batch, M, K) b (batch, K, N). Batches run in parallel, one single-threaded
// product each (sgemm inside an OpenMP region does not spawn threads): at these sizes threading one
// product at a time costs more than it gains.
torch::Tensor batched(const torch::Tensor& a3, const torch::Tensor& b3) {
  const GemmOperand A = operand(a3), Bop = operand(b3);
  const int64_t n = a3.size(0), M = a3.size(1), K = a3.size(2), N = b3.size(2);
  auto out = torch::empty({n, M, N}, a3.options());
  const float* pa = A.t.data_ptr<float>();
  const float* pb = Bop.t.data_ptr<float>();
  float* po = out.data_ptr<float>();
  auto run = [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      sgemm(A.trans, Bop.trans, M, N, K, pa + i * A.batch_stride, A.ld, pb + i * Bop.batch_stride, Bop.ld, 0.0f,
            po + i * M * N, N);
  };
  // Fewer products than threads: one at a time, each threaded by sgemm itself.
  if (n < at::get_num_threads()) run(0, n);
  else at::parallel_for(0, n, 1, run);
  return out;
}

struct Fp32CpuMatmul : torch::autograd::Function<Fp32CpuMatmul> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return batched(a, b);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &a = saved[0], &b = saved[1], &g = grads[0];
    // Each gradient comes out in its input's layout: for a transposed view (a weight W^T in linear)
    // its transpose is computed contiguously, so the parameter's gradient already has the
    // parameter's layout and autograd stores it without the copy it would otherwise make.
    torch::Tensor da, db;
    if (ctx->needs_input_grad(0))
      da = operand(a).trans ? batched(b, g.transpose(1, 2)).transpose(1, 2)  // (b g^T)^T
                            : batched(g, b.transpose(1, 2));                 // g b^T
    if (ctx->needs_input_grad(1))
      db = operand(b).trans ? batched(g.transpose(1, 2), a).transpose(1, 2)  // (g^T a)^T
                            : batched(a.transpose(1, 2), g);                 // a^T g
    return {da, db};
  }
};

constexpr int64_t kFewRows = 256;

bool fp32_cpu(const torch::Tensor& a, const torch::Tensor& b) {
  return a.is_cpu() && b.is_cpu() && a.scalar_type() == torch::kFloat32 && b.scalar_type() == torch::kFloat32 &&
         !compat::autocast_enabled(c10::DeviceType::CPU);
}

}  // namespace

torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b) {
  if (!(onednn_sgemm_enabled() && fp32_cpu(a, b) && a.dim() >= 3 && a.dim() == b.dim() && a.numel() > 0 &&
        b.numel() > 0))
    return torch::matmul(a, b);
  TORCH_CHECK(a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2),
              "kernels::matmul: leading axes differ: ", a.sizes(), " and ", b.sizes());
  const int64_t K = a.size(-1), N = b.size(-1);
  TORCH_CHECK(b.size(-2) == K, "kernels::matmul: inner sizes differ: ", a.sizes(), " and ", b.sizes());
  auto out_shape = a.sizes().vec();
  out_shape.back() = N;
  // flatten(0, -3) keeps a transposed view's layout when the leading axes are contiguous.
  return Fp32CpuMatmul::apply(a.flatten(0, -3), b.flatten(0, -3)).view(out_shape);
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w) {
  // Decoding (a few rows, no gradient, fp32 or bf16): one bandwidth-bound pass over the weight.
  if (gemv_applies(x, w) && !compat::autocast_enabled(c10::DeviceType::CPU)) return gemv(x, w);
  if (!(onednn_sgemm_enabled() && fp32_cpu(x, w) && x.numel() > 0)) return torch::nn::functional::linear(x, w);
  auto out_shape = x.sizes().vec();
  out_shape.back() = w.size(0);
  const auto x3 = x.reshape({1, -1, w.size(1)});
  // Few rows (a short prompt, decoding): y^T = W x^T, with the weight as the untransposed left
  // operand, runs 1.2-5x faster in oneDNN than x W^T (bench/bench_gemm, large-base's 5632 x 2048
  // gate: 363 vs 217 GFLOP/s at 128 rows, 205 vs 43 at 16); from ~512 rows on the two are even.
  if (x3.size(1) <= kFewRows)
    return Fp32CpuMatmul::apply(w.unsqueeze(0), x3.transpose(1, 2)).transpose(1, 2).reshape(out_shape);
  // One product of a batch of one: x (N, I) W^T (I, O), W^T read in place as a transposed view.
  return Fp32CpuMatmul::apply(x3, w.t().unsqueeze(0)).view(out_shape);
}

}  // namespace sharelab::kernels
