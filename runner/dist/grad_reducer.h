// Data-parallel gradient all-reduce, overlapped with backward, without Python's DDP (c10d::Reducer
// is driven from Python): parameters are grouped into buckets of ~25 MB in reverse registration
// order (the order backward completes them); a post hook on each parameter's gradient accumulator
// marks it ready, and a bucket whose gradients are all complete is flattened and its all-reduce
// started at once, while backward goes on. Buckets start in index order on every rank (the
// collectives must match). finish() waits, divides by the world size and writes the averages
// back. A shared module is one parameter (one accumulator, fired once per backward): reduced once.
// Only the last micro-batch's backward is armed: earlier ones just accumulate locally.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "runner/dist/comm.h"

namespace sharelab::dist {

constexpr double kBucketBytes = 25.0 * 1024 * 1024;  // DDP's default bucket_cap_mb

struct ReduceStats {
  int buckets = 0;
  double bytes = 0;            // gradient bytes all-reduced per step
  double started_early = 0;    // the last step's buckets started during backward (the rest after it)
  double exposed_s = 0;        // the last step's wait in finish(): communication not hidden by backward
  double exposed_sum_s = 0;    // over all steps
  int64_t steps = 0;
};

class GradReducer {
 public:
  GradReducer(Comm& comm, const std::vector<torch::Tensor>& params, double bucket_bytes = kBucketBytes);
  ~GradReducer();
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  void arm(bool armed);  // before a backward: true on the last micro-batch of the step
  void finish();         // after it: every bucket reduced; .grad holds the average over ranks
  const ReduceStats& stats() const;
  // Median seconds of `reps` blocking all-reduces of one step's gradient buckets, nothing else
  // running: what the step's communication costs when none of it is hidden. Collective.
  double time_blocking(int reps);

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // kept alive: they hold the hooks
};

}  // namespace sharelab::dist
