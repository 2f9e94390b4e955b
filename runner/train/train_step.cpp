// The optimizer step. Shapes: R rows per micro-batch, T sequence length.
#include "runner/train/train_step.h"

#include "kernels/torch_compat.h"

#include <cmath>
#include <limits>

namespace sharelab::train {

StepStats train_step(arch::CausalLM& model, AdamW& opt, const std::function<torch::Tensor()>& next_rows, double lr,
                     const StepOptions& o, dist::GradReducer* reducer) {
  StepStats st;
  opt.zero_grad();
  {
    // Cast weights are cached across the micro-batches (the weights change only in opt.step).
    kernels::compat::AutocastGuard ac(o.bf16, o.cuda ? c10::DeviceType::CUDA : c10::DeviceType::CPU);
    for (int64_t a = 0; a < o.accum; ++a) {
      const torch::Tensor x = next_rows();  // (R, T + 1)
      const int64_t T = x.size(1) - 1;
      auto loss = model->loss(x.narrow(1, 0, T), x.narrow(1, 1, T));  // fp32 scalar
      if (o.poison && a == 0) loss = loss * std::numeric_limits<float>::infinity();
      if (reducer) reducer->arm(a == o.accum - 1);  // no all-reduce on the micro-batches before the last
      (loss / double(o.accum)).backward();
      st.loss += loss.item<double>();
    }
  }
  st.loss /= double(o.accum);
  if (reducer) reducer->finish();  // every rank now holds the same averaged gradients
  std::vector<torch::Tensor> params;
  params.reserve(opt.slots().size());
  for (const auto& s : opt.slots()) params.push_back(s.param);
  const double max_norm = o.grad_clip > 0 ? o.grad_clip : std::numeric_limits<double>::infinity();
  const GradNorm gn = grad_norm(params, max_norm);
  st.grad_norm = gn.norm;
  st.finite = std::isfinite(st.loss) && std::isfinite(st.grad_norm);
  if (!(o.gate ? o.gate(st) : st.finite)) return st;  // no update: NaN/inf would reach the weights
  opt.step(lr, gn.clip_scale);  // clipping folded into the optimizer's pass over the gradients
  st.updated = true;
  return st;
}

}  // namespace sharelab::train
