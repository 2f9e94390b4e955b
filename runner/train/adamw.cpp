// AdamW step: torch::optim::AdamW's operations in its order (1.13), either op by op or fused into
// one pass per parameter. Fused, it reads param, grad, m and v once and writes param, m and v once,
// where the op-by-op form makes ~9 passes and two temporaries (bench_train, 21.8M parameters: ~45 ms
// of a ~700 ms bf16 step). The two agree with torch's to float rounding (LibTorch's vectorised add
// uses FMA, a plain loop does not): tests/test_train_unit.cpp.
#include "runner/train/adamw.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>

namespace sharelab::train {

bool decays(const torch::Tensor& param) { return param.dim() >= 2; }

AdamW::AdamW(const std::vector<std::pair<std::string, torch::Tensor>>& named, const AdamWOptions& opt) : opt_(opt) {
  for (const auto& [name, p] : named) {
    Slot s;
    s.name = name;
    s.param = p;
    s.decay = decays(p);
    s.exp_avg = torch::zeros_like(p, torch::MemoryFormat::Preserve);
    s.exp_avg_sq = torch::zeros_like(p, torch::MemoryFormat::Preserve);
    slots_.push_back(std::move(s));
  }
}

void AdamW::zero_grad() {
  for (auto& s : slots_) s.param.mutable_grad() = torch::Tensor();
}

namespace {

struct StepScalars {
  float decay, b1, one_minus_b1, b2, one_minus_b2, sqrt_bc2, eps, neg_step_size, grad_scale;
};

constexpr float kTiny = std::numeric_limits<float>::min();  // smallest normal float

// One pass over a contiguous fp32 parameter, in the op-by-op form's order of operations.
void fused_step(float* p, const float* g, float* m, float* v, int64_t n, const StepScalars& k) {
  at::parallel_for(0, n, 1 << 14, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const float gi = g[i] * k.grad_scale;  // exact when grad_scale is 1
      const float pi = p[i] * k.decay;
      float mi = m[i] * k.b1 + k.one_minus_b1 * gi;
      float vi = v[i] * k.b2 + k.one_minus_b2 * (gi * gi);
      // Denormals flushed here, not just by the FTZ flag (kernels/cpu_runtime.h), which OpenMP's worker
      // threads do not inherit: v of a never-updated row decays into them and sqrt/div slow ~100x.
      // (The one departure from the op-by-op form: it keeps them.)
      mi = std::fabs(mi) < kTiny ? 0.0f : mi;
      vi = vi < kTiny ? 0.0f : vi;
      const float denom = std::sqrt(vi) / k.sqrt_bc2 + k.eps;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi + k.neg_step_size * (mi / denom);
    }
  });
}

}  // namespace

GradNorm grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  GradNorm out;
  if (norms.empty()) return out;
  out.norm = (norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2)).item<double>();
  const double coef = max_norm / (out.norm + 1e-6);  // clip_grad_norm_'s rule
  if (coef < 1) out.clip_scale = coef;
  return out;
}

void AdamW::step(double lr, double grad_scale) {
  torch::NoGradGuard no_grad;
  for (auto& s : slots_) {
    const auto& grad = s.param.grad();
    if (!grad.defined()) continue;
    auto p = s.param;
    ++s.step;
    const bool decay = s.decay && opt_.weight_decay != 0;
    const double bc1 = 1 - std::pow(opt_.beta1, double(s.step));
    const double bc2 = 1 - std::pow(opt_.beta2, double(s.step));
    const bool fusable = p.is_cpu() && p.scalar_type() == torch::kFloat32 && p.is_contiguous() && grad.is_contiguous() &&
                         grad.scalar_type() == torch::kFloat32 && s.exp_avg.is_contiguous() &&
                         s.exp_avg_sq.is_contiguous();
    if (fusable) {
      const StepScalars k{float(decay ? 1 - lr * opt_.weight_decay : 1.0), float(opt_.beta1),
                          float(1 - opt_.beta1), float(opt_.beta2), float(1 - opt_.beta2), float(std::sqrt(bc2)),
                          float(opt_.eps), float(-lr / bc1), float(grad_scale)};
      fused_step(p.data_ptr<float>(), grad.data_ptr<float>(), s.exp_avg.data_ptr<float>(),
                 s.exp_avg_sq.data_ptr<float>(), p.numel(), k);
      continue;
    }
    const torch::Tensor g = grad_scale != 1.0 ? grad * grad_scale : grad;
    if (decay) p.mul_(1 - lr * opt_.weight_decay);  // decoupled decay
    s.exp_avg.mul_(opt_.beta1).add_(g, 1 - opt_.beta1);
    s.exp_avg_sq.mul_(opt_.beta2).addcmul_(g, g, 1 - opt_.beta2);
    auto denom = (s.exp_avg_sq.sqrt() / std::sqrt(bc2)).add_(opt_.eps);
    p.addcdiv_(s.exp_avg, denom, -lr / bc1);
  }
}

}  // namespace sharelab::train
