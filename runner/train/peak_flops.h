// The denominator of model FLOPs utilisation on a machine without a datasheet peak: the best
// measured throughput of a large square matmul in the run's precision, on the run's device and
// threads (so MFU reads "fraction of what this BLAS/oneDNN reaches on a plain GEMM").
#pragma once

#include <torch/torch.h>

namespace sharelab::train {

// FLOP/s of the best of a few (n x n) @ (n x n) products; cached per (device, dtype, threads)
// unless `fresh` (a benchmark on a shared machine re-measures beside each measurement).
double measured_matmul_flops(const torch::Device& device, bool bf16, int64_t n = 1024, bool fresh = false);

}  // namespace sharelab::train
