// Warm-up + cosine learning rate.
#include "runner/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace sharelab::train {

double LrSchedule::at(int64_t step) const {
  if (step < warmup_steps) return lr * double(step + 1) / double(warmup_steps);
  const int64_t span = total_steps - 1 - warmup_steps;
  if (span <= 0) return lr;  // the budget ends inside (or right at the end of) warm-up
  const double progress = std::min(1.0, double(step - warmup_steps) / double(span));
  return min_lr + (lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace sharelab::train
