#include "kernels/decode_step.h"

// GCC 12 flags the _mm512_undefined_* inside its own reduction intrinsics (a false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace sharelab::kernels::decode {

namespace {

using bf16 = uint16_t;

#define SHARELAB_AVX512 __attribute__((target("avx512f,avx512bw")))

SHARELAB_AVX512 inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
// 16 bf16 words (the upper halves of fp32) widened to fp32: exact.
SHARELAB_AVX512 inline __m512 load16(const bf16* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

inline float to_f32(float v) { return v; }
inline float to_f32(bf16 v) {
  const uint32_t u = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// Round to nearest even, as c10::BFloat16 does (NaN stays NaN).
inline void store(float* p, float v) { *p = v; }
inline void store(bf16* p, float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    *p = bf16((u >> 16) | 0x40);
    return;
  }
  u += 0x7fffu + ((u >> 16) & 1u);
  *p = bf16(u >> 16);
}

// sum_i w[i] x[i]: four accumulators so the FMA latency does not bound a row's read.
template <typename T>
SHARELAB_AVX512 inline float dot(const T* w, const float* x, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a0 = _mm512_fmadd_ps(load16(w + i), load16(x + i), a0);
    a1 = _mm512_fmadd_ps(load16(w + i + 16), load16(x + i + 16), a1);
    a2 = _mm512_fmadd_ps(load16(w + i + 32), load16(x + i + 32), a2);
    a3 = _mm512_fmadd_ps(load16(w + i + 48), load16(x + i + 48), a3);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(load16(w + i), load16(x + i), a0);
  float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  for (; i < n; ++i) s += to_f32(w[i]) * x[i];
  return s;
}

// y[o] (+)= W[o] . x for rows [lo, hi) of W (O, I).
template <bool kAdd, typename T>
SHARELAB_AVX512 void matvec(const T* w, const float* x, float* y, int64_t I, int64_t lo, int64_t hi) {
  for (int64_t o = lo; o < hi; ++o) {
    const float v = dot(w + o * I, x, I);
    y[o] = kAdd ? y[o] + v : v;
  }
}

// act[f] = silu(W1[f] . x) * (W3[f] . x) for rows [lo, hi): SwiGLU's hidden activation.
template <typename T>
SHARELAB_AVX512 void gate_up(const T* w1, const T* w3, const float* x, float* act, int64_t I, int64_t lo,
                             int64_t hi) {
  for (int64_t f = lo; f < hi; ++f) {
    const float g = dot(w1 + f * I, x, I), u = dot(w3 + f * I, x, I);
    act[f] = g / (1.0f + std::exp(-g)) * u;
  }
}

// HF LlamaRMSNorm in fp32: h = w * (x / sqrt(mean(x^2) + eps)).
template <typename T>
void rms_norm(const float* x, const T* w, float* h, int64_t C, float eps) {
  float ss = 0;
  for (int64_t i = 0; i < C; ++i) ss += x[i] * x[i];
  const float r = 1.0f / std::sqrt(ss / float(C) + eps);
  for (int64_t i = 0; i < C; ++i) h[i] = to_f32(w[i]) * (x[i] * r);
}

// HF half rotation at one position, in place: (x1, x2) -> (x1 c - x2 s, x2 c + x1 s) * scale.
void rope(float* v, const float* cos, const float* sin, int64_t D, float scale) {
  const int64_t half = D / 2;
  for (int64_t j = 0; j < half; ++j) {
    const float x1 = v[j], x2 = v[j + half];
    v[j] = (x1 * cos[j] - x2 * sin[j]) * scale;
    v[j + half] = (x2 * cos[j] + x1 * sin[j]) * scale;
  }
}

// One query head over positions 0..L-1 of its group's cache (L, D): softmax(q . k) v into out (D).
template <typename K>
SHARELAB_AVX512 void attend(const float* q, const K* k, const K* v, int64_t L, int64_t D, float* scores,
                            float* out) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < L; ++j) mx = std::max(mx, scores[j] = dot(k + j * D, q, D));
  float sum = 0;
  for (int64_t j = 0; j < L; ++j) sum += scores[j] = std::exp(scores[j] - mx);
  const float inv = 1.0f / sum;
  std::fill(out, out + D, 0.0f);
  const int64_t D16 = D / 16 * 16;
  for (int64_t j = 0; j < L; ++j) {
    const float p = scores[j] * inv;
    const K* vj = v + j * D;
    const __m512 pv = _mm512_set1_ps(p);
    for (int64_t d = 0; d < D16; d += 16)
      _mm512_storeu_ps(out + d, _mm512_fmadd_ps(pv, load16(vj + d), _mm512_loadu_ps(out + d)));
    for (int64_t d = D16; d < D; ++d) out[d] += p * to_f32(vj[d]);
  }
}

// Rows [lo, hi) of the `total` rows this thread takes among `n`.
inline void share(int64_t total, int t, int n, int64_t& lo, int64_t& hi) {
  lo = total * t / n;
  hi = total * (t + 1) / n;
}

// Scratch for one token: the QKV output, attention output, SwiGLU activation, scores, one norm
// output per thread.
struct Scratch {
  std::vector<float> buf;
  float *qkv, *att, *act, *scores, *norm;
  Scratch(const Model& m, int64_t L, int threads) {
    const int64_t nqkv = (m.H + 2 * m.G) * m.D;
    buf.resize(size_t(nqkv + m.H * m.D + m.F + m.H * L + int64_t(threads) * m.C));
    qkv = buf.data();
    att = qkv + nqkv;
    act = att + m.H * m.D;
    scores = act + m.F;
    norm = scores + m.H * L;
  }
};

template <typename W, typename K>
void layer(const Model& m, const Layer& l, int64_t pos, float* x, Scratch& s, int threads) {
  const int64_t C = m.C, H = m.H, G = m.G, D = m.D, F = m.F, R = H / G, L = pos + 1, cap = m.capacity;
  const int64_t nq = H * D, nk = G * D;
  const W *wq = static_cast<const W*>(l.wq), *wk = static_cast<const W*>(l.wk), *wv = static_cast<const W*>(l.wv),
          *wo = static_cast<const W*>(l.wo), *w1 = static_cast<const W*>(l.w1), *w2 = static_cast<const W*>(l.w2),
          *w3 = static_cast<const W*>(l.w3);
  K *kc = static_cast<K*>(l.k_cache), *vc = static_cast<K*>(l.v_cache);
  const float *cs = m.cos + pos * D, *sn = m.sin + pos * D;
  const float q_scale = 1.0f / std::sqrt(float(D));
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    float* h = s.norm + t * C;
    int64_t lo, hi;
    // Attention: every thread normalises x itself (C values: cheaper than a barrier), then its
    // share of the q, k and v rows.
    rms_norm(x, static_cast<const W*>(l.attn_norm), h, C, m.eps);
    share(nq + 2 * nk, t, n, lo, hi);
    if (lo < nq) matvec<false>(wq, h, s.qkv, C, lo, std::min(hi, nq));
    if (hi > nq && lo < nq + nk)
      matvec<false>(wk, h, s.qkv + nq, C, std::max(lo, nq) - nq, std::min(hi, nq + nk) - nq);
    if (hi > nq + nk) matvec<false>(wv, h, s.qkv + nq + nk, C, std::max(lo, nq + nk) - nq - nk, hi - nq - nk);
#pragma omp barrier
    share(G, t, n, lo, hi);  // this position's keys (rotated) and values into the cache
    for (int64_t g = lo; g < hi; ++g) {
      float *k = s.qkv + nq + g * D, *v = s.qkv + nq + nk + g * D;
      rope(k, cs, sn, D, 1.0f);
      K *kd = kc + (g * cap + pos) * D, *vd = vc + (g * cap + pos) * D;
      for (int64_t j = 0; j < D; ++j) store(kd + j, k[j]), store(vd + j, v[j]);
    }
    share(H, t, n, lo, hi);
    for (int64_t q = lo; q < hi; ++q) rope(s.qkv + q * D, cs, sn, D, q_scale);
#pragma omp barrier
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t g = q / R;
      attend(s.qkv + q * D, kc + g * cap * D, vc + g * cap * D, L, D, s.scores + q * L, s.att + q * D);
    }
#pragma omp barrier
    share(C, t, n, lo, hi);
    matvec<true>(wo, s.att, x, nq, lo, hi);  // the residual add in place
#pragma omp barrier
    rms_norm(x, static_cast<const W*>(l.ffn_norm), h, C, m.eps);
    share(F, t, n, lo, hi);
    gate_up(w1, w3, h, s.act, C, lo, hi);
#pragma omp barrier
    share(C, t, n, lo, hi);
    matvec<true>(w2, s.act, x, F, lo, hi);
  }
}

template <typename W>
void embed(const Model& m, int64_t token, float* x) {
  const W* e = static_cast<const W*>(m.embedding) + token * m.C;
  for (int64_t i = 0; i < m.C; ++i) x[i] = to_f32(e[i]);
}

template <typename W>
void head(const Model& m, const float* x, float* logits, Scratch& s, int threads) {
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    float* h = s.norm + t * m.C;
    rms_norm(x, static_cast<const W*>(m.final_norm), h, m.C, m.eps);
    int64_t lo, hi;
    share(m.V, t, n, lo, hi);
    matvec<false>(static_cast<const W*>(m.head), h, logits, m.C, lo, hi);
  }
}

template <typename W, typename K>
void run(const Model& m, int64_t token, int64_t pos, float* logits, int threads,
         const std::function<void(int64_t, bool)>& hook) {
  Scratch s(m, pos + 1, threads);
  std::vector<float> x(size_t(m.C));
  embed<W>(m, token, x.data());
  for (size_t i = 0; i < m.layers.size(); ++i) {
    if (hook) hook(int64_t(i), true);
    layer<W, K>(m, m.layers[i], pos, x.data(), s, threads);
    if (hook) hook(int64_t(i), false);
  }
  if (logits) head<W>(m, x.data(), logits, s, threads);
}

}  // namespace

bool supported() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return yes;
}

void forward_token(const Model& m, int64_t token, int64_t pos, float* logits, int threads,
                   const std::function<void(int64_t, bool)>& hook) {
  threads = std::max(1, threads);
  const bool wf = m.weights == Type::kF32, kf = m.cache == Type::kF32;
  if (wf && kf) run<float, float>(m, token, pos, logits, threads, hook);
  else if (wf) run<float, bf16>(m, token, pos, logits, threads, hook);
  else if (kf) run<bf16, float>(m, token, pos, logits, threads, hook);
  else run<bf16, bf16>(m, token, pos, logits, threads, hook);
}

}  // namespace sharelab::kernels::decode
