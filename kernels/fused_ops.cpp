// Shapes: N rows, C features; B batch, T time, H heads, G kv heads, R = H / G, D head dim, W = (H + 2G) D.
// Kernels are plain loops written for the compiler to vectorise (this file builds with -O3): float
// math, independent partial sums, the row as the unit of parallel work.
#include "kernels/fused_ops.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace sharelab::kernels {

namespace {

std::atomic<bool>& fused_flag() {
  static std::atomic<bool> on{[] {
    const char* e = std::getenv("SHARELAB_FUSED");
    return !(e && std::strcmp(e, "0") == 0);
  }()};
  return on;
}

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

constexpr int kLanes = 16;  // independent partial sums: one AVX-512 register of floats

// sum_j a[j] * b[j] with kLanes partial sums (a fixed order: the result does not depend on threads).
inline float dot(const float* a, const float* b, int64_t n) {
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[j + l] * b[j + l];
  float s = 0;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  for (; j < n; ++j) s += a[j] * b[j];
  return s;
}

// --- RMSNorm ----------------------------------------------------------------------------------

constexpr int64_t kNormBlock = 64;  // rows per partial sum of the weight gradient (fixed: deterministic)

struct RmsNormFn : torch::autograd::Function<RmsNormFn> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w, double eps) {
    const int64_t C = x.size(-1);
    auto x2 = x.reshape({-1, C}).contiguous();
    auto wc = w.contiguous();
    const int64_t N = x2.size(0);
    auto y = torch::empty_like(x2);
    auto rstd = torch::empty({N}, x2.options());
    const float *px = x2.data_ptr<float>(), *pw = wc.data_ptr<float>();
    float *py = y.data_ptr<float>(), *pr = rstd.data_ptr<float>();
    const float feps = float(eps);
    at::parallel_for(0, N, 16, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const float* xi = px + i * C;
        const float r = 1.0f / std::sqrt(dot(xi, xi, C) / float(C) + feps);
        pr[i] = r;
        float* yi = py + i * C;
        for (int64_t j = 0; j < C; ++j) yi[j] = pw[j] * (xi[j] * r);
      }
    });
    ctx->save_for_backward({x2, wc, rstd});
    return y.view(x.sizes());
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x2 = saved[0], &w = saved[1], &rstd = saved[2];
    const int64_t N = x2.size(0), C = x2.size(1);
    auto g = grads[0].reshape({N, C}).contiguous();
    auto gx = torch::empty_like(x2);
    const int64_t n_blocks = (N + kNormBlock - 1) / kNormBlock;
    auto gw_part = torch::zeros({n_blocks, C}, x2.options());
    const float *px = x2.data_ptr<float>(), *pw = w.data_ptr<float>(), *pr = rstd.data_ptr<float>(),
                *pg = g.data_ptr<float>();
    float *pgx = gx.data_ptr<float>(), *pgw = gw_part.data_ptr<float>();
    at::parallel_for(0, n_blocks, 1, [&](int64_t blo, int64_t bhi) {
      std::vector<float> wg(C);
      for (int64_t b = blo; b < bhi; ++b) {
        float* gwb = pgw + b * C;
        for (int64_t i = b * kNormBlock; i < std::min(N, (b + 1) * kNormBlock); ++i) {
          const float *xi = px + i * C, *gi = pg + i * C;
          const float r = pr[i];
          for (int64_t j = 0; j < C; ++j) {
            wg[j] = pw[j] * gi[j];
            gwb[j] += gi[j] * (xi[j] * r);
          }
          // d/dx of w * x * r(x): r w g - x r^3 / C * sum(w g x)
          const float c = dot(wg.data(), xi, C) * r * r * r / float(C);
          float* gxi = pgx + i * C;
          for (int64_t j = 0; j < C; ++j) gxi[j] = r * wg[j] - c * xi[j];
        }
      }
    });
    return {gx.view(grads[0].sizes()), gw_part.sum(0), torch::Tensor()};
  }
};

// --- split heads + RoPE -----------------------------------------------------------------------

struct Geometry {
  int64_t B, T, H, G, R, D, W;
};

// One (b, t) row of qkv to or from the head layouts. Forward rotates (x1, x2) -> (x1 c - x2 s,
// x2 c + x1 s); backward applies the transpose, (g1, g2) -> (g1 c + g2 s, g2 c - g1 s).
template <typename S, bool kBackward>
void rope_row(const Geometry& s, int64_t b, int64_t t, S* row, S* q, S* k, S* v, const float* cos_t,
              const float* sin_t, float q_scale) {
  const int64_t half = s.D / 2;
  auto rotate = [&](S* qkv_head, S* head, float scale) {
    for (int64_t j = 0; j < half; ++j) {
      const float c = cos_t[j], sn = sin_t[j];
      if constexpr (!kBackward) {
        const float x1 = float(qkv_head[j]), x2 = float(qkv_head[j + half]);
        head[j] = S((x1 * c - x2 * sn) * scale);
        head[j + half] = S((x2 * c + x1 * sn) * scale);
      } else {
        const float g1 = float(head[j]) * scale, g2 = float(head[j + half]) * scale;
        qkv_head[j] = S(g1 * c + g2 * sn);
        qkv_head[j + half] = S(g2 * c - g1 * sn);
      }
    }
  };
  for (int64_t h = 0; h < s.H; ++h) {
    const int64_t g = h / s.R, r = h % s.R;
    rotate(row + h * s.D, q + (((b * s.G + g) * s.R + r) * s.T + t) * s.D, q_scale);
  }
  for (int64_t g = 0; g < s.G; ++g) {
    const int64_t at = ((b * s.G + g) * s.T + t) * s.D;
    rotate(row + (s.H + g) * s.D, k + at, 1.0f);
    S* vr = row + (s.H + s.G + g) * s.D;
    for (int64_t j = 0; j < s.D; ++j) {
      if constexpr (!kBackward) v[at + j] = vr[j];
      else vr[j] = v[at + j];
    }
  }
}

template <bool kBackward>
void rope_all(const Geometry& s, torch::Tensor& qkv, torch::Tensor& q, torch::Tensor& k, torch::Tensor& v,
              const torch::Tensor& cos, const torch::Tensor& sin, float q_scale) {
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, qkv.scalar_type(), "split_heads_rope", [&] {
    scalar_t *pqkv = qkv.data_ptr<scalar_t>(), *pq = q.data_ptr<scalar_t>(), *pk = k.data_ptr<scalar_t>(),
             *pv = v.data_ptr<scalar_t>();
    const float *pc = cos.data_ptr<float>(), *ps = sin.data_ptr<float>();
    at::parallel_for(0, s.B * s.T, 8, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const int64_t b = i / s.T, t = i % s.T;
        rope_row<scalar_t, kBackward>(s, b, t, pqkv + i * s.W, pq, pk, pv, pc + t * s.D, ps + t * s.D, q_scale);
      }
    });
  });
}

struct SplitHeadsRopeFn : torch::autograd::Function<SplitHeadsRopeFn> {
  static tensor_list forward(AutogradContext* ctx, const torch::Tensor& qkv, const torch::Tensor& cos,
                             const torch::Tensor& sin, int64_t n_heads, int64_t n_kv_heads, double q_scale) {
    auto in = qkv.contiguous();
    const int64_t B = in.size(0), T = in.size(1), W = in.size(2), D = W / (n_heads + 2 * n_kv_heads);
    const Geometry s{B, T, n_heads, n_kv_heads, n_heads / n_kv_heads, D, W};
    auto q = torch::empty({B, s.G, s.R * T, D}, in.options());
    auto k = torch::empty({B, s.G, T, D}, in.options());
    auto v = torch::empty({B, s.G, T, D}, in.options());
    auto c = cos.contiguous(), sn = sin.contiguous();
    rope_all<false>(s, in, q, k, v, c, sn, float(q_scale));
    ctx->save_for_backward({c, sn});
    ctx->saved_data["geometry"] = std::vector<int64_t>{B, T, s.H, s.G, s.R, D, W};
    ctx->saved_data["q_scale"] = q_scale;
    return {q, k, v};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto g = ctx->saved_data["geometry"].toIntVector();
    const Geometry s{g[0], g[1], g[2], g[3], g[4], g[5], g[6]};
    // An output that took no part in the loss has an undefined gradient: zeros stand in.
    auto dense = [&](const torch::Tensor& t, at::IntArrayRef shape, const torch::Tensor& like) {
      return t.defined() ? t.contiguous() : torch::zeros(shape, like.options());
    };
    const torch::Tensor& any = grads[0].defined() ? grads[0] : grads[1].defined() ? grads[1] : grads[2];
    auto gq = dense(grads[0], {s.B, s.G, s.R * s.T, s.D}, any);
    auto gk = dense(grads[1], {s.B, s.G, s.T, s.D}, any);
    auto gv = dense(grads[2], {s.B, s.G, s.T, s.D}, any);
    auto gqkv = torch::empty({s.B, s.T, s.W}, gq.options());
    rope_all<true>(s, gqkv, gq, gk, gv, saved[0], saved[1], float(ctx->saved_data["q_scale"].toDouble()));
    return {gqkv, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// --- SwiGLU activation -----------------------------------------------------------------------

// silu(g) = g sigmoid(g); d silu / dg = sigmoid(g) (1 + g (1 - sigmoid(g))). The exponentials come
// from LibTorch's vectorised fp32 sigmoid over the whole gate; the rest is one fused pass.
struct SwiGLUFn : torch::autograd::Function<SwiGLUFn> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate_up) {
    auto in = gate_up.contiguous();
    const int64_t F2 = in.size(-1), F = F2 / 2, N = in.numel() / F2;
    auto halves = in.view({N, F2}).chunk(2, -1);
    auto sig = torch::sigmoid(halves[0].to(torch::kFloat32));  // (N, F) fp32
    auto out_shape = in.sizes().vec();
    out_shape.back() = F;
    auto out = torch::empty(out_shape, in.options());
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, in.scalar_type(), "swiglu", [&] {
      const scalar_t* pin = in.data_ptr<scalar_t>();
      const float* ps = sig.data_ptr<float>();
      scalar_t* po = out.data_ptr<scalar_t>();
      at::parallel_for(0, N, 16, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const scalar_t *g = pin + i * F2, *u = g + F;
          const float* si = ps + i * F;
          scalar_t* o = po + i * F;
          for (int64_t j = 0; j < F; ++j) o[j] = scalar_t(float(g[j]) * si[j] * float(u[j]));
        }
      });
    });
    ctx->save_for_backward({in, sig});
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &in = saved[0], &sig = saved[1];
    const int64_t F2 = in.size(-1), F = F2 / 2, N = in.numel() / F2;
    auto gout = grads[0].contiguous();
    auto gin = torch::empty_like(in);
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, in.scalar_type(), "swiglu_backward", [&] {
      const scalar_t *pin = in.data_ptr<scalar_t>(), *pg = gout.data_ptr<scalar_t>();
      const float* ps = sig.data_ptr<float>();
      scalar_t* pgi = gin.data_ptr<scalar_t>();
      at::parallel_for(0, N, 16, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const scalar_t *g = pin + i * F2, *u = g + F, *go = pg + i * F;
          const float* si = ps + i * F;
          scalar_t *gg = pgi + i * F2, *gu = gg + F;
          for (int64_t j = 0; j < F; ++j) {
            const float x = float(g[j]), sj = si[j], d = float(go[j]);
            gg[j] = scalar_t(d * float(u[j]) * sj * (1.0f + x * (1.0f - sj)));
            gu[j] = scalar_t(d * x * sj);
          }
        }
      });
    });
    return {gin};
  }
};

// --- causal softmax ---------------------------------------------------------------------------

torch::Tensor future_mask(int64_t T, const torch::Device& device) {  // (T, T), true above the diagonal
  return torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(device)).triu(1);
}

struct CausalSoftmaxFn : torch::autograd::Function<CausalSoftmaxFn> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& scores) {
    const int64_t T = scores.size(-1);
    auto probs = torch::softmax(scores.masked_fill(future_mask(T, scores.device()), -INFINITY), -1);
    ctx->save_for_backward({probs});
    return probs;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto probs = ctx->get_saved_variables()[0];
    return {torch::_softmax_backward_data(grads[0].contiguous(), probs, -1, probs.scalar_type())};
  }
};

torch::Tensor rotate_half(const torch::Tensor& x) {  // HF: (x1, x2) -> (-x2, x1) on the last axis
  auto halves = x.chunk(2, -1);
  return torch::cat({-halves[1], halves[0]}, -1);
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  return x * cos.to(x.scalar_type()) + rotate_half(x) * sin.to(x.scalar_type());  // x (B, *, T, D)
}

}  // namespace

torch::Tensor swiglu_composite(const torch::Tensor& gate_up) {
  auto halves = gate_up.chunk(2, -1);
  return (torch::silu(halves[0].to(torch::kFloat32)) * halves[1]).to(gate_up.scalar_type());
}

torch::Tensor swiglu(const torch::Tensor& gate_up) {
  const auto st = gate_up.scalar_type();
  if (fused_ops_enabled() && gate_up.is_cpu() && (st == torch::kFloat32 || st == torch::kBFloat16) &&
      gate_up.numel() > 0 && gate_up.size(-1) % 2 == 0)
    return SwiGLUFn::apply(gate_up);
  return swiglu_composite(gate_up);
}

torch::Tensor causal_softmax_composite(const torch::Tensor& scores) {
  return torch::softmax(scores.masked_fill(future_mask(scores.size(-1), scores.device()), -INFINITY), -1);
}

torch::Tensor causal_softmax(const torch::Tensor& scores) {
  if (fused_ops_enabled() && scores.numel() > 0) return CausalSoftmaxFn::apply(scores);
  return causal_softmax_composite(scores);
}

void set_fused_ops_enabled(bool on) { fused_flag() = on; }
bool fused_ops_enabled() { return fused_flag(); }

torch::Tensor rms_norm_composite(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  auto xf = x.to(torch::kFloat32);
  xf = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return w * xf.to(x.scalar_type());
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  if (fused_ops_enabled() && x.is_cpu() && x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kFloat32 &&
      x.numel() > 0)
    return RmsNormFn::apply(x, w, eps);
  return rms_norm_composite(x, w, eps);
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> split_heads_rope_composite(
    const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& sin, int64_t n_heads,
    int64_t n_kv_heads, double q_scale) {
  const int64_t B = qkv.size(0), T = qkv.size(1), G = n_kv_heads, R = n_heads / n_kv_heads;
  const int64_t D = qkv.size(2) / (n_heads + 2 * n_kv_heads);
  auto parts = qkv.split({n_heads * D, G * D, G * D}, -1);
  auto q = parts[0].view({B, T, G, R, D}).permute({0, 2, 3, 1, 4});  // (B, G, R, T, D)
  auto k = parts[1].view({B, T, G, D}).transpose(1, 2);              // (B, G, T, D)
  auto v = parts[2].view({B, T, G, D}).transpose(1, 2);              // (B, G, T, D)
  q = (apply_rope(q, cos, sin) * q_scale).reshape({B, G, R * T, D});
  return {q, apply_rope(k, cos, sin), v};
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> split_heads_rope(const torch::Tensor& qkv,
                                                                         const torch::Tensor& cos,
                                                                         const torch::Tensor& sin, int64_t n_heads,
                                                                         int64_t n_kv_heads, double q_scale) {
  const auto st = qkv.scalar_type();
  if (fused_ops_enabled() && qkv.is_cpu() && (st == torch::kFloat32 || st == torch::kBFloat16) && qkv.numel() > 0 &&
      cos.scalar_type() == torch::kFloat32) {
    auto out = SplitHeadsRopeFn::apply(qkv, cos, sin, n_heads, n_kv_heads, q_scale);
    return {out[0], out[1], out[2]};
  }
  return split_heads_rope_composite(qkv, cos, sin, n_heads, n_kv_heads, q_scale);
}

}  // namespace sharelab::kernels
