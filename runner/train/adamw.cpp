// AdamW step, the same operations in the same order as torch::optim::AdamW (1.13), so the two
// agree bit for bit (tests/test_train_optim.cpp).
#include "runner/train/adamw.h"

#include <cmath>

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

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  for (auto& s : slots_) {
    const auto& grad = s.param.grad();
    if (!grad.defined()) continue;
    auto p = s.param;
    ++s.step;
    if (s.decay && opt_.weight_decay != 0) p.mul_(1 - lr * opt_.weight_decay);  // decoupled decay
    const double bc1 = 1 - std::pow(opt_.beta1, double(s.step));
    const double bc2 = 1 - std::pow(opt_.beta2, double(s.step));
    s.exp_avg.mul_(opt_.beta1).add_(grad, 1 - opt_.beta1);
    s.exp_avg_sq.mul_(opt_.beta2).addcmul_(grad, grad, 1 - opt_.beta2);
    auto denom = (s.exp_avg_sq.sqrt() / std::sqrt(bc2)).add_(opt_.eps);
    p.addcdiv_(s.exp_avg, denom, -lr / bc1);
  }
}

}  // namespace sharelab::train
