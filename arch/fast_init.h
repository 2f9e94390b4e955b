// Weight initialisation that is fast but draws exactly what the plain LibTorch calls draw.
//
// LibTorch's CPU normal_ on a contiguous float tensor of n >= 16 elements (normal_fill in
// ATen/native/cpu/DistributionTemplates.h, 1.13 and 2.x alike) takes one 32-bit draw per element,
// turns each 16-block into normals in place (Box-Muller), and when n % 16 != 0 draws the last 16
// again and redoes them: n (+16) draws, one thread, ~8 ns an element here. A tensor cut into
// pieces whose sizes are multiples of 16 (the last keeping the tail) can therefore be drawn piece by
// piece, in parallel, with each piece's generator advanced past the draws before it: the same
// kernel runs on the same uniforms, so the values are bit-identical whatever the CPU capability.
// Advancing costs one state twist per 624 draws (skip_draws), not a tempered draw each. Where it
// can, a piece is drawn by a copy of that kernel fed by vectorised draws (exact_fast_normal).
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace sharelab::arch {

// Advances gen as if `draws` 32-bit values had been taken from it (gen.random() that many times).
void skip_draws(at::CPUGeneratorImpl& gen, uint64_t draws);

// The 32-bit draws t.normal_(mean, sd, gen) takes on a contiguous CPU fp32 tensor of n >= 16 elements.
inline uint64_t normal_draws(int64_t n) { return uint64_t(n) + (n % 16 != 0 ? 16 : 0); }

// Whether normal_fill draws through our copy of LibTorch's AVX2 normal kernel (~5x faster than
// normal_), which it does only after checking, once per process, that it gives LibTorch's bits;
// else it calls normal_ on each piece. enable: 0 turns it off, 1 re-checks, -1 only asks.
bool exact_fast_normal(int enable = -1);

struct NormalFill {
  torch::Tensor w;  // any floating dtype and device
  double sd;
};

// Same values and the same final state of gen as
//   for (f : fills) f.w.normal_(0, f.sd, gen)               (CPU fp32 weights), or
//   f.w.copy_(at::normal(0, f.sd, f.w.sizes(), gen, fp32))  (any other weight),
// in parallel over at::get_num_threads(); other dtypes are drawn in fp32 and cast piece by piece.
// Falls back to exactly those loops when a tensor is not eligible (under 16 elements, or CPU and
// not contiguous).
void normal_fill(const std::vector<NormalFill>& fills, at::Generator& gen);

// dst.copy_(src), the same values, faster for CPU fp32 -> bf16 without NaN (LibTorch 1.13's cast runs
// one element at a time): round to nearest even, as c10::BFloat16 and the vectorised cast do.
void cast_into(torch::Tensor& dst, const torch::Tensor& src);

// Modules whose weights are allocated but not initialised: the parameters, their names and the
// modules' options are those of the plain constructors, whose default initialisation (kaiming-
// uniform; N(0, 1) for the embedding) would only be overwritten by reset_parameters. The global
// CPU generator is advanced past the draws that initialisation takes, so code that draws from it
// afterwards sees the same numbers as before.
torch::nn::Linear uninitialized_linear(int64_t in, int64_t out);  // no bias
torch::nn::Embedding uninitialized_embedding(int64_t count, int64_t dim);

}  // namespace sharelab::arch
