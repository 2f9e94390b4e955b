// AdamW (Loshchilov & Hutter; torch.optim.AdamW's arithmetic, equal to it to float rounding) over named parameters in two groups:
// weight decay on matrices and embeddings, none on norm weights (1-D tensors). Written here rather
// than using torch::optim::AdamW because its state map is keyed by TensorImpl address with a key
// type that changed between LibTorch 1.13 and 2.x; keyed by name, the state goes straight into
// the checkpoint and comes back bit-exactly.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace sharelab::train {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;
};

// The decay rule (nanoGPT's): every tensor of 2 or more dims decays; norm weights (and biases,
// if a model had any) are 1-D and do not.
bool decays(const torch::Tensor& param);

// The global L2 norm of the gradients as torch::nn::utils::clip_grad_norm_ computes it, and the
// factor that function would multiply them by (1 when the norm is within max_norm).
struct GradNorm {
  double norm = 0, clip_scale = 1;
};
GradNorm grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

class AdamW {
 public:
  struct Slot {
    std::string name;
    torch::Tensor param;
    bool decay = true;
    int64_t step = 0;
    torch::Tensor exp_avg, exp_avg_sq;  // same shape and device as param, fp32
  };

  // `named` must list each tensor once (CausalLM::named_parameters does: modules are registered once).
  AdamW(const std::vector<std::pair<std::string, torch::Tensor>>& named, const AdamWOptions& opt);

  void zero_grad();     // grads set to undefined (freed), as set_to_none=True
  // Params with no grad are skipped (their state does not advance). Gradients are multiplied by
  // `grad_scale` first (gradient clipping folded in: the grads themselves are left as they are).
  // fp32 CPU parameters take one fused pass over (param, grad, m, v); others the op-by-op form.
  void step(double lr, double grad_scale = 1.0);

  std::vector<Slot>& slots() { return slots_; }
  const std::vector<Slot>& slots() const { return slots_; }
  const AdamWOptions& options() const { return opt_; }

 private:
  std::vector<Slot> slots_;
  AdamWOptions opt_;
};

}  // namespace sharelab::train
