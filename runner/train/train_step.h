// One optimizer step of the recipe: `accum` micro-batches forward/backward under bf16 autocast (or
// fp32), loss in fp32, gradients averaged over micro-batches, global-norm clipping, AdamW at `lr`.
// A non-finite loss or gradient norm skips the update (parameters and optimizer state untouched);
// what the loop then does is TrainSession's decision (train.skip_nonfinite).
// The training loop and bench/bench_train time exactly this function.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "arch/model.h"
#include "runner/dist/grad_reducer.h"
#include "runner/train/adamw.h"

namespace sharelab::train {

struct StepStats {
  double loss = 0;       // mean of the micro-batch losses (fp32 cross-entropy)
  double grad_norm = 0;  // global norm before clipping
  bool finite = true;    // loss and gradient norm finite (this rank's; the gate may widen it to the job)
  bool updated = false;  // the optimizer step was applied
};

struct StepOptions {
  int64_t accum = 1;
  double grad_clip = 1.0;  // 0 = no clipping (the norm is still measured)
  bool bf16 = true;
  bool cuda = false;
  // Fault injection for the tests of non-finite steps (SHARELAB_FAULT_NONFINITE, train_session.h):
  // the step's first micro-batch loss is multiplied by +inf before backward, so the loss and the
  // gradients are non-finite through the real computation.
  bool poison = false;
  // Called after backward and the gradient norm, before the update, with the step's stats: true
  // applies the update. Data parallel: the ranks agree here (TrainSession all-reduces the loss and
  // the finiteness). Unset: the update is applied when the loss and the norm are finite.
  std::function<bool(StepStats&)> gate;
};

// next_rows() returns one micro-batch of token rows, (R, T + 1) int64 on the model's device.
// With a reducer (data parallel), the last micro-batch's backward all-reduces the gradients and the
// norm is the global one; the loss stays this rank's.
StepStats train_step(arch::CausalLM& model, AdamW& opt, const std::function<torch::Tensor()>& next_rows, double lr,
                     const StepOptions& o, dist::GradReducer* reducer = nullptr);

}  // namespace sharelab::train
