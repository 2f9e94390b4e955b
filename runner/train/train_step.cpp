// The optimizer step. Shapes: R rows per micro-batch, T sequence length.
#include "runner/train/train_step.h"

#include <ATen/autocast_mode.h>

#include <limits>

namespace sharelab::train {

AutocastScope::AutocastScope(bool on, bool cuda) : on_(on), cuda_(cuda) {
  if (!on_) return;
  if (cuda_) {
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  } else {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
}

AutocastScope::~AutocastScope() {
  if (!on_) return;
  if (cuda_) at::autocast::set_enabled(false);
  else at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
}

StepStats train_step(arch::CausalLM& model, AdamW& opt, const std::function<torch::Tensor()>& next_rows, double lr,
                     const StepOptions& o) {
  StepStats st;
  opt.zero_grad();
  {
    AutocastScope ac(o.bf16, o.cuda);
    for (int64_t a = 0; a < o.accum; ++a) {
      const torch::Tensor x = next_rows();  // (R, T + 1)
      const int64_t T = x.size(1) - 1;
      auto loss = model->loss(x.narrow(1, 0, T), x.narrow(1, 1, T));  // fp32 scalar
      (loss / double(o.accum)).backward();
      st.loss += loss.item<double>();
    }
  }
  st.loss /= double(o.accum);
  std::vector<torch::Tensor> params;
  params.reserve(opt.slots().size());
  for (const auto& s : opt.slots()) params.push_back(s.param);
  const double max_norm = o.grad_clip > 0 ? o.grad_clip : std::numeric_limits<double>::infinity();
  const GradNorm gn = grad_norm(params, max_norm);
  st.grad_norm = gn.norm;
  opt.step(lr, gn.clip_scale);  // clipping folded into the optimizer's pass over the gradients
  return st;
}

}  // namespace sharelab::train
