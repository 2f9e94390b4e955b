// One optimizer step of the recipe: `accum` micro-batches forward/backward under bf16 autocast (or
// fp32), loss in fp32, gradients averaged over micro-batches, global-norm clipping, AdamW at `lr`.
// The training loop and bench/bench_train time exactly this function.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "arch/model.h"
#include "runner/dist/grad_reducer.h"
#include "runner/train/adamw.h"

namespace sharelab::train {

struct StepOptions {
  int64_t accum = 1;
  double grad_clip = 1.0;  // 0 = no clipping (the norm is still measured)
  bool bf16 = true;
  bool cuda = false;
};

struct StepStats {
  double loss = 0;       // mean of the micro-batch losses (fp32 cross-entropy)
  double grad_norm = 0;  // global norm before clipping
};

// next_rows() returns one micro-batch of token rows, (R, T + 1) int64 on the model's device.
// With a reducer (data parallel), the last micro-batch's backward all-reduces the gradients and the
// norm is the global one; the loss stays this rank's.
StepStats train_step(arch::CausalLM& model, AdamW& opt, const std::function<torch::Tensor()>& next_rows, double lr,
                     const StepOptions& o, dist::GradReducer* reducer = nullptr);

}  // namespace sharelab::train
