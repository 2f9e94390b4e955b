// The learning-rate schedule of the papers' recipe: linear warm-up to the peak, then a cosine
// down to min_lr at the last step (LLaMA / MobiLlama / nanoGPT). A pure function of the step, so a
// resumed run needs no schedule state.
#pragma once

#include <cstdint>

namespace sharelab::train {

struct LrSchedule {
  double lr = 3e-4, min_lr = 3e-5;
  int64_t warmup_steps = 0, total_steps = 1;

  // LR for optimizer step `step` (0-based): lr * (step + 1) / warmup during warm-up, then
  // min_lr + (lr - min_lr) * (1 + cos(pi * progress)) / 2 with progress 0 at the end of warm-up and
  // 1 at step total_steps - 1.
  double at(int64_t step) const;
};

}  // namespace sharelab::train
