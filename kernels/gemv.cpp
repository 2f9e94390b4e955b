#include "kernels/gemv.h"

#include <ATen/Parallel.h>

// GCC 12 flags the _mm512_undefined_* inside its own widening intrinsics (a false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

namespace sharelab::kernels {

namespace {

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

// 16 bf16 values (the upper half of fp32) widened to fp32.
__attribute__((target("avx512f"))) inline __m512 load_bf16(const c10::BFloat16* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
__attribute__((target("avx512f"))) inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }

// The sum of 16 lanes (GCC 12's _mm512_reduce_add_ps trips -Wmaybe-uninitialized).
__attribute__((target("avx512f"))) inline float sum16(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float s = 0;
  for (float x : lanes) s += x;
  return s;
}
__attribute__((target("avx512f"))) inline __m512 load16(const c10::BFloat16* p) { return load_bf16(p); }

// Rows [lo, hi) of y (R x O) = x (R x I, fp32) W^T, W (O x I) of T; I % 16 tail in scalar code.
template <typename T, int R>
__attribute__((target("avx512f"))) void rows(const float* x, const T* w, float* y, int64_t I, int64_t O, int64_t lo,
                                             int64_t hi) {
  const int64_t I16 = I / 16 * 16;
  for (int64_t o = lo; o < hi; ++o) {
    const T* wr = w + o * I;
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (int64_t i = 0; i < I16; i += 16) {
      const __m512 wv = load16(wr + i);
      for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + r * I + i), acc[r]);
    }
    for (int r = 0; r < R; ++r) {
      float s = sum16(acc[r]);
      for (int64_t i = I16; i < I; ++i) s += float(wr[i]) * x[r * I + i];
      y[r * O + o] = s;
    }
  }
}

template <typename T>
void run(const float* x, const T* w, float* y, int64_t R, int64_t I, int64_t O) {
  // Each task reads at least ~256 KB of W, so the threads' share outweighs waking them.
  const int64_t grain = std::max<int64_t>(8, (256 << 10) / (I * int64_t(sizeof(T))));
  at::parallel_for(0, O, grain, [&](int64_t lo, int64_t hi) {
    switch (R) {
      case 1: return rows<T, 1>(x, w, y, I, O, lo, hi);
      case 2: return rows<T, 2>(x, w, y, I, O, lo, hi);
      case 3: return rows<T, 3>(x, w, y, I, O, lo, hi);
      default: return rows<T, 4>(x, w, y, I, O, lo, hi);
    }
  });
}

}  // namespace

bool gemv_applies(const torch::Tensor& x, const torch::Tensor& w) {
  if (!has_avx512() || !x.is_cpu() || !w.is_cpu() || w.dim() != 2 || !w.is_contiguous() || x.dim() < 1 ||
      x.size(-1) != w.size(1) || x.numel() == 0 || w.numel() == 0)
    return false;
  if (x.scalar_type() != w.scalar_type() || (w.scalar_type() != torch::kFloat32 && w.scalar_type() != torch::kBFloat16))
    return false;
  if (torch::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad())) return false;
  return x.numel() / x.size(-1) <= kGemvMaxRows;
}

torch::Tensor gemv(const torch::Tensor& x, const torch::Tensor& w) {
  const int64_t I = w.size(1), O = w.size(0), R = x.numel() / I;
  const auto xf = x.reshape({R, I}).to(torch::kFloat32).contiguous();  // a few rows: widening is free
  auto y = torch::empty({R, O}, xf.options());
  if (w.scalar_type() == torch::kFloat32)
    run(xf.data_ptr<float>(), w.data_ptr<float>(), y.data_ptr<float>(), R, I, O);
  else
    run(xf.data_ptr<float>(), w.data_ptr<c10::BFloat16>(), y.data_ptr<float>(), R, I, O);
  auto shape = x.sizes().vec();
  shape.back() = O;
  return y.to(x.scalar_type()).view(shape);
}

}  // namespace sharelab::kernels
