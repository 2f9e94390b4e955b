// A caching allocator for LibTorch's CPU tensors, the CPU counterpart of the CUDA caching allocator.
// Why: glibc serves blocks over 32 MiB (and, until its threshold adapts, over 128 KiB) with mmap and
// returns them with munmap, so every training step page-faults its activations and logits back in:
// ~1.1M minor faults and 6 s of kernel time per 13 s bench run, large-base fp32 at 1,256 tokens/s;
// with blocks kept for reuse, 1,870 (bench/bench_train, this project's 2-core CPU).
// Blocks of 1 MiB and more are rounded up to one of 8 size classes per power of two and kept on
// free; below that glibc's heap already reuses memory. The cache is bounded: past `limit_bytes`
// of idle blocks, freed blocks go back to the system instead of into the cache. Blocks of 2 MiB and
// more ask for transparent huge pages (SHARELAB_HUGE_PAGES=0: not), which the weights read by
// decoding and first-touched by init gain most from (cpu_allocator.cpp says how much).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sharelab::kernels {

struct CpuCacheStats {
  std::int64_t hits = 0, misses = 0;  // large allocations served from the cache / from the system
  std::size_t cached_bytes = 0;       // idle blocks held now
  std::size_t live_bytes = 0;         // large blocks in use now
};

// Installs the caching allocator as LibTorch's CPU allocator (idempotent; tensors allocated before
// keep their own deleter). Returns false when SHARELAB_CPU_CACHE=0 in the environment turns it off.
bool install_caching_cpu_allocator(std::size_t limit_bytes = std::size_t(4) << 30);

CpuCacheStats cpu_cache_stats();

// Returns every idle block to the system (e.g. between runs of a sweep).
void release_cpu_cache();

}  // namespace sharelab::kernels
