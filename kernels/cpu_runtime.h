// Process-wide CPU settings every sharelab executable applies before its first tensor.
#pragma once

namespace sharelab::kernels {

// Installs the caching CPU allocator (kernels/cpu_allocator.h) and flushes denormals to zero.
// Denormals: AdamW's second moment of a parameter whose gradient stays zero (an embedding row of a
// token the batch lacks) decays by beta2 per step into the denormal range after ~1,200 steps, and
// sqrt/div on denormals run ~10-100x slower (bench_train: AdamW 180 ms instead of 30 ms per step
// once the state went denormal). Values below 1.2e-38 become 0, which changes no fp32 loss.
void configure_cpu_runtime();

}  // namespace sharelab::kernels
