// Parallel, bit-identical normal_ (see fast_init.h) and modules without a discarded default init.
#include "arch/fast_init.h"

#include <ATen/Parallel.h>
#include <c10/util/MathConstants.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define SHARELAB_EXACT_NORMAL 1
#include <ATen/native/cpu/Intrinsics.h>  // before the namespaces: avx_mathfun.h includes it too
#endif

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstring>
#include <mutex>

namespace sharelab::arch {

// --- mt19937 skip-ahead ----------------------------------------------------------------------
// at::mt19937 (ATen/core/MT19937RNGEngine.h, the same in 1.13 and 2.x) regenerates its 624-word
// state in one twist every 624 draws; a draw itself only tempers the next word. Skipping n draws is
// therefore ceil(n / 624) twists plus index bookkeeping, and the twist vectorises: word i needs words
// i, i+1 and i+397 (mod 624), the last of which is already final when 227 words back.

namespace {

constexpr int kN = at::MERSENNE_STATE_N, kM = at::MERSENNE_STATE_M;

inline uint32_t twist_word(uint32_t far, uint32_t u, uint32_t v) {
  return far ^ (((u & at::UMASK) | (v & at::LMASK)) >> 1) ^ ((v & 1u) ? at::MATRIX_A : 0u);
}

void twist_scalar(uint32_t* s) {  // at::mt19937_engine::next_state
  for (int i = 0; i < kN - kM; ++i) s[i] = twist_word(s[i + kM], s[i], s[i + 1]);
  for (int i = kN - kM; i < kN - 1; ++i) s[i] = twist_word(s[i + kM - kN], s[i], s[i + 1]);
  s[kN - 1] = twist_word(s[kM - 1], s[kN - 1], s[0]);
}

#if defined(__GNUC__) && defined(__x86_64__)
#define SHARELAB_TWIST_AVX2 1
typedef uint32_t u32x8 __attribute__((vector_size(32)));

// One 8-word step of the twist: s[i..i+7] from s[i..i+8] and s[far..far+7].
#define SHARELAB_TWIST8(s, i, far)                                                   \
  do {                                                                               \
    u32x8 u, v, f;                                                                   \
    std::memcpy(&u, (s) + (i), sizeof u);                                            \
    std::memcpy(&v, (s) + (i) + 1, sizeof v);                                        \
    std::memcpy(&f, (s) + (far), sizeof f);                                          \
    const u32x8 y = (u & at::UMASK) | (v & at::LMASK);                               \
    const u32x8 r = f ^ (y >> 1) ^ ((u32x8{} - (v & 1u)) & at::MATRIX_A);            \
    std::memcpy((s) + (i), &r, sizeof r);                                            \
  } while (0)

__attribute__((target("avx2"))) void twist_avx2(uint32_t* s) {
  int i = 0;
  for (; i + 8 <= kN - kM; i += 8) SHARELAB_TWIST8(s, i, i + kM);  // reads ahead only: old words
  for (; i < kN - kM; ++i) s[i] = twist_word(s[i + kM], s[i], s[i + 1]);
  for (; i + 8 <= kN - 1; i += 8) SHARELAB_TWIST8(s, i, i + kM - kN);  // s[i - 227]: final already
  for (; i < kN - 1; ++i) s[i] = twist_word(s[i + kM - kN], s[i], s[i + 1]);
  s[kN - 1] = twist_word(s[kM - 1], s[kN - 1], s[0]);
}
#undef SHARELAB_TWIST8

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

void twist(uint32_t* s) {
#ifdef SHARELAB_TWIST_AVX2
  if (has_avx2()) return twist_avx2(s);
#endif
  twist_scalar(s);
}

}  // namespace

namespace {

// skip_draws on the engine's plain state.
void skip_pod(at::mt19937_data_pod& d, uint64_t n) {
  if (n == 0) return;
  // A draw decrements left_ and twists when it reaches 0 (left_ = 624, next_ = 0), then reads
  // state_[next_++]: left_ - 1 draws remain before the next twist.
  const uint64_t avail = uint64_t(d.left_ - 1);
  if (n <= avail) {
    d.left_ -= int(n);
    d.next_ += uint32_t(n);
    return;
  }
  n -= avail;
  const uint64_t twists = (n + kN - 1) / kN;
  for (uint64_t t = 0; t < twists; ++t) twist(d.state_.data());
  const uint64_t in_last = n - (twists - 1) * kN;  // 1..624 draws taken after the last twist
  d.left_ = int(kN + 1 - in_last);
  d.next_ = uint32_t(in_last);
}

at::mt19937 engine_of(const at::mt19937_data_pod& d) {
  at::mt19937 e;
  e.set_data(d);
  return e;
}

}  // namespace

void skip_draws(at::CPUGeneratorImpl& gen, uint64_t n) {
  if (n == 0) return;
  at::mt19937_data_pod d = gen.engine().data();
  skip_pod(d, n);
  gen.set_engine(engine_of(d));
}

// --- normal_fill_AVX2, reproduced --------------------------------------------------------------
// The draw loop of ATen's normal_ is one out-of-line gen->random() per element (~5 ns); the same
// uniforms come out of a vectorised temper of the state words, and ATen's own Box-Muller (its
// avx_mathfun.h, shipped with LibTorch) turns them into the same normals when this file's compiler
// evaluates that code as LibTorch's did. Whether it does is checked once per process against
// normal_ itself (fast_normal_ok); if not, or without AVX2, every draw goes through normal_.

#ifdef SHARELAB_EXACT_NORMAL
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define CPU_CAPABILITY_AVX2
namespace avx_mathfun {  // LibTorch's inline functions stay LibTorch's (no shared symbols)
#include <ATen/native/cpu/avx_mathfun.h>
}  // namespace avx_mathfun
#undef CPU_CAPABILITY_AVX2

namespace {

// Uniforms: at::uniform_real_distribution<float>(0, 1) of each tempered word.
void uniforms(at::mt19937_data_pod& d, float* out, int64_t n) {
  while (n > 0) {
    int64_t avail = d.left_ - 1;
    if (avail == 0) {  // the next draw twists first; "before it" is left_ = 625, next_ = 0
      twist(d.state_.data());
      d.left_ = kN + 1;
      d.next_ = 0;
      avail = kN;
    }
    const int64_t take = std::min(avail, n);
    const uint32_t* w = d.state_.data() + d.next_;
    int64_t i = 0;
    const __m256i m1 = _mm256_set1_epi32(int(0x9d2c5680u)), m2 = _mm256_set1_epi32(int(0xefc60000u));
    const __m256i mask = _mm256_set1_epi32((1 << 24) - 1);
    const __m256 scale = _mm256_set1_ps(1.0f / float(1 << 24));
    for (; i + 8 <= take; i += 8) {
      __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i));
      y = _mm256_xor_si256(y, _mm256_srli_epi32(y, 11));
      y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 7), m1));
      y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 15), m2));
      y = _mm256_xor_si256(y, _mm256_srli_epi32(y, 18));
      // (y & 2^24 - 1) * 2^-24: exact, as ATen's float arithmetic
      _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(y, mask)), scale));
    }
    for (; i < take; ++i) {
      uint32_t y = w[i];
      y ^= (y >> 11);
      y ^= (y << 7) & 0x9d2c5680u;
      y ^= (y << 15) & 0xefc60000u;
      y ^= (y >> 18);
      out[i] = float(y & ((1u << 24) - 1)) * (1.0f / float(1 << 24));
    }
    d.left_ -= int(take);
    d.next_ += uint32_t(take);
    out += take;
    n -= take;
  }
}

// normal_fill_16_AVX2 (ATen/native/cpu/DistributionTemplates.h), the same operations in order.
inline void box_muller_16(float* data, const __m256& two_pi, const __m256& one, const __m256& minus_two,
                          const __m256& mean, const __m256& std_v) {
  const __m256 u1 = _mm256_sub_ps(one, _mm256_loadu_ps(data));
  const __m256 u2 = _mm256_loadu_ps(data + 8);
  const __m256 radius = _mm256_sqrt_ps(_mm256_mul_ps(minus_two, avx_mathfun::log256_ps(u1)));
  const __m256 theta = _mm256_mul_ps(two_pi, u2);
  __m256 sintheta, costheta;
  avx_mathfun::sincos256_ps(theta, &sintheta, &costheta);
  const __m256 n1 = _mm256_mul_ps(radius, costheta);
  const __m256 n2 = _mm256_mul_ps(radius, sintheta);
  _mm256_storeu_ps(data, _mm256_fmadd_ps(n1, std_v, mean));
  _mm256_storeu_ps(data + 8, _mm256_fmadd_ps(n2, std_v, mean));
}

// normal_fill_AVX2 on n >= 16 floats, drawing from d.
void normal_avx2(float* data, int64_t n, float mean, float sd, at::mt19937_data_pod& d) {
  uniforms(d, data, n);
  const __m256 two_pi = _mm256_set1_ps(2.0f * c10::pi<double>), one = _mm256_set1_ps(1.0f);
  const __m256 minus_two = _mm256_set1_ps(-2.0f), mean_v = _mm256_set1_ps(mean), std_v = _mm256_set1_ps(sd);
  for (int64_t i = 0; i < n - 15; i += 16) box_muller_16(data + i, two_pi, one, minus_two, mean_v, std_v);
  if (n % 16 != 0) {  // the last 16 again, drawn afresh
    float* tail = data + n - 16;
    uniforms(d, tail, 16);
    box_muller_16(tail, two_pi, one, minus_two, mean_v, std_v);
  }
}

// fp32 -> bf16, round to nearest even, 8 at a time; false at the first NaN.
bool to_bf16_avx2(const float* src, uint16_t* dst, int64_t n) {
  const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_loadu_ps(src + i);
    if (_mm256_movemask_ps(_mm256_cmp_ps(a, a, _CMP_UNORD_Q)) != 0) return false;
    const __m256i u = _mm256_castps_si256(a);
    __m256i r = _mm256_add_epi32(_mm256_add_epi32(_mm256_and_si256(_mm256_srli_epi32(u, 16), one), bias), u);
    r = _mm256_srli_epi32(r, 16);                                           // 8 x 32-bit, high halves 0
    const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), packed);
  }
  for (; i < n; ++i) {
    if (std::isnan(src[i])) return false;
    uint32_t u;
    std::memcpy(&u, src + i, 4);
    dst[i] = uint16_t((u + ((u >> 16) & 1u) + 0x7fffu) >> 16);
  }
  return true;
}

}  // namespace
#pragma GCC pop_options
#endif

namespace {

std::atomic<int> g_fast_normal{-1};  // -1 not checked yet, 0 off, 1 on

// Our normal_avx2 against LibTorch's normal_: every bit of 65,557 values and the generator after.
bool check_fast_normal() {
#ifdef SHARELAB_EXACT_NORMAL
  if (!has_avx2() || !__builtin_cpu_supports("fma")) return false;
  for (int64_t n : {int64_t(65536 + 5), int64_t(37), int64_t(16)}) {
    auto g = at::detail::createCPUGenerator(20261130);
    for (int i = 0; i < 5; ++i) g.get<at::CPUGeneratorImpl>()->random();
    at::mt19937_data_pod d = g.get<at::CPUGeneratorImpl>()->engine().data();
    auto ref = torch::empty({n});
    {
      torch::NoGradGuard no_grad;
      ref.normal_(0.0, 0.02, g);
    }
    std::vector<float> ours(static_cast<size_t>(n));
    normal_avx2(ours.data(), n, 0.0f, 0.02f, d);
    if (std::memcmp(ours.data(), ref.data_ptr<float>(), size_t(n) * sizeof(float)) != 0) return false;
    if (engine_of(d)() != g.get<at::CPUGeneratorImpl>()->random()) return false;
  }
  return true;
#else
  return false;
#endif
}

bool fast_normal_on() {
  int v = g_fast_normal.load();
  if (v < 0) {
    v = check_fast_normal() ? 1 : 0;
    g_fast_normal.store(v);
  }
  return v == 1;
}

}  // namespace

bool exact_fast_normal(int enable) {
  if (enable == 0) g_fast_normal.store(0);
  else if (enable == 1) g_fast_normal.store(-1);  // re-checked on next use
  return fast_normal_on();
}

// --- parallel normal_ ------------------------------------------------------------------------

namespace {

constexpr int64_t kPiece = int64_t(1) << 18;  // elements per work piece (1 MiB fp32), a multiple of 16

void reference_fill(torch::Tensor& w, double sd, at::Generator& gen) {
  if (w.is_cpu() && w.scalar_type() == torch::kFloat32) w.normal_(0.0, sd, gen);
  else w.copy_(at::normal(0.0, sd, w.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat32)));
}

struct Piece {
  size_t fill;                   // index into the batch
  int64_t start, len;            // elements of the flattened weight
  uint64_t draw_at, draws;       // position in the generator's stream, relative to the batch's start
};

// Draws a batch of CPU contiguous weights (numel >= 16 or 0) in parallel; gen ends where the plain
// sequential loop would leave it.
void parallel_batch(const std::vector<std::pair<torch::Tensor, double>>& batch, at::Generator& gen) {
  std::vector<Piece> pieces;
  uint64_t at = 0;
  for (size_t f = 0; f < batch.size(); ++f) {
    const int64_t n = batch[f].first.numel();
    if (n == 0) continue;
    // Full pieces, then one last piece of 16 .. kPiece + 15 elements holding the tail.
    const int64_t full = (n - 16) / kPiece;
    for (int64_t k = 0; k < full; ++k) pieces.push_back({f, k * kPiece, kPiece, at + uint64_t(k * kPiece), uint64_t(kPiece)});
    const int64_t start = full * kPiece, len = n - start;
    pieces.push_back({f, start, len, at + uint64_t(start), normal_draws(len)});
    at += normal_draws(n);
  }
  if (pieces.empty()) return;
  auto* master = gen.get<at::CPUGeneratorImpl>();
  at::mt19937 base;
  {
    std::lock_guard<std::mutex> lock(master->mutex_);
    base = master->engine();
  }
  // Pieces are handed out in order, one at a time (a static split stalls when a neighbour takes a
  // core); each thread's generator only moves forward, skipping the pieces others drew.
  at::mt19937 end_state;
  std::atomic<size_t> next{0};
  const bool fast = fast_normal_on();
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
    torch::NoGradGuard no_grad;  // grad mode is per thread
    at::Generator g = at::detail::createCPUGenerator();
    auto* gi = g.get<at::CPUGeneratorImpl>();
    at::mt19937_data_pod d = base.data();
    uint64_t pos = 0;
    torch::Tensor staging;  // fp32 pieces for weights of other dtypes
    for (size_t p = next++; p < pieces.size(); p = next++) {
      const Piece& pc = pieces[p];
      skip_pod(d, pc.draw_at - pos);
      pos = pc.draw_at + pc.draws;
      const auto& [w, sd] = batch[pc.fill];
      auto dst = w.view({-1}).narrow(0, pc.start, pc.len);
      auto out = dst;
      if (w.scalar_type() != torch::kFloat32) {
        if (!staging.defined()) staging = torch::empty({kPiece + 16}, torch::TensorOptions().dtype(torch::kFloat32));
        out = staging.narrow(0, 0, pc.len);
      }
#ifdef SHARELAB_EXACT_NORMAL
      if (fast) {  // normal_kernel takes mean and std as float
        normal_avx2(out.data_ptr<float>(), pc.len, 0.0f, static_cast<float>(sd), d);
      } else
#endif
      {
        gi->set_engine(engine_of(d));
        out.normal_(0.0, sd, g);
        d = gi->engine().data();
      }
      if (!out.is_same(dst)) dst.copy_(out);
      if (p + 1 == pieces.size()) end_state = engine_of(d);  // the stream's end: where gen must go
    }
  });
  std::lock_guard<std::mutex> lock(master->mutex_);
  master->set_engine(end_state);
}

}  // namespace

void normal_fill(const std::vector<NormalFill>& fills, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  // Runs of eligible CPU weights go in one parallel batch; anything else is drawn as before, in
  // order, so the generator's stream stays the same.
  std::vector<std::pair<torch::Tensor, double>> batch;
  auto flush = [&] {
    parallel_batch(batch, gen);
    batch.clear();
  };
  for (const auto& f : fills) {
    auto w = f.w.detach();
    const int64_t n = w.numel();
    const bool small = n > 0 && n < 16;
    if (w.is_cpu() && w.is_contiguous() && !small) {
      batch.emplace_back(w, f.sd);
    } else if (!w.is_cpu() && !small) {  // drawn in fp32 on the CPU, then copied over
      flush();
      auto tmp = torch::empty(w.sizes(), torch::TensorOptions().dtype(torch::kFloat32));
      parallel_batch({{tmp, f.sd}}, gen);
      w.copy_(tmp);
    } else {
      flush();
      reference_fill(w, f.sd, gen);
    }
  }
  flush();
}

void cast_into(torch::Tensor& dst, const torch::Tensor& src) {
#ifdef SHARELAB_EXACT_NORMAL
  if (dst.scalar_type() == torch::kBFloat16 && src.scalar_type() == torch::kFloat32 && dst.is_cpu() && src.is_cpu() &&
      dst.is_contiguous() && src.is_contiguous() && dst.numel() == src.numel() && has_avx2() &&
      to_bf16_avx2(src.data_ptr<float>(), reinterpret_cast<uint16_t*>(dst.data_ptr<at::BFloat16>()), src.numel()))
    return;
#endif
  dst.copy_(src);
}

// --- modules without their default init -------------------------------------------------------

namespace {

void skip_global_draws(uint64_t n) {
  auto* g = at::detail::getDefaultCPUGenerator().get<at::CPUGeneratorImpl>();
  std::lock_guard<std::mutex> lock(g->mutex_);
  skip_draws(*g, n);
}

}  // namespace

torch::nn::Linear uninitialized_linear(int64_t in, int64_t out) {
  if (in <= 0 || out <= 1) return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
  // One row is built (and initialised: `in` uniform draws, one per element), then the weight grows
  // to its full shape in place, as Module::to swaps a parameter's data: the same registered tensor.
  torch::nn::Linear lin(torch::nn::LinearOptions(in, 1).bias(false));
  lin->options.out_features(out);
  lin->weight.set_data(torch::empty({out, in}));
  skip_global_draws(uint64_t(out - 1) * uint64_t(in));  // kaiming_uniform_'s draws for the other rows
  return lin;
}

torch::nn::Embedding uninitialized_embedding(int64_t count, int64_t dim) {
  const int64_t n = count * dim;
  if (n < 16) return torch::nn::Embedding(count, dim);  // normal_ below 16 elements: not a fixed count
  torch::nn::Embedding e(torch::nn::EmbeddingOptions(count, dim)._weight(torch::empty({count, dim})));
  e->options._weight(torch::Tensor());  // as if built without one (clone() would share it otherwise)
  skip_global_draws(normal_draws(n));   // what init::normal_(weight) would have drawn
  return e;
}

}  // namespace sharelab::arch
