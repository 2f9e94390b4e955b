#include "kernels/cpu_allocator.h"

#include "kernels/torch_compat.h"  // SHARELAB_ALLOCATE_CONST

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>


namespace sharelab::kernels {

namespace {

constexpr std::size_t kMinCached = std::size_t(1) << 20;  // smaller blocks go to LibTorch's allocator
constexpr std::size_t kAlign = 64;                        // as c10::alloc_cpu: a full AVX-512 line
constexpr std::size_t kHuge = std::size_t(2) << 20;       // an x86-64 transparent huge page

// Whether blocks of 2 MiB and more ask for transparent huge pages (SHARELAB_HUGE_PAGES=0: no).
bool huge_pages_wanted() {
  static const bool yes = [] {
    const char* env = std::getenv("SHARELAB_HUGE_PAGES");
    return !(env && std::string(env) == "0");
  }();
  return yes;
}

// Rounds up to one of 8 classes per power of two (at most 12.5% unused), so that sizes that
// differ slightly between calls (evaluation batches of varying length) still share blocks.
std::size_t size_class(std::size_t n) {
  std::size_t pow2 = kMinCached;
  while (pow2 * 2 <= n) pow2 *= 2;
  const std::size_t step = pow2 / 8;
  return (n + step - 1) / step * step;
}

// Blocks of 2 MiB and more are rounded up to whole huge pages when that wastes at most 1/4 (MobileLLM-
// 125M's 3.4 MiB fp32 FFN weights take 4 MiB), start on a 2 MiB boundary and ask the kernel for
// transparent huge pages before their first touch. Why: with 4 KiB pages every 4 KiB of a weight
// read is a TLB miss, dearest under a hypervisor (two-level page walks), and first touch faults
// 4 KiB at a time. On this project's 2-core VM: large-base's init 0.9-1.4 s in fp32 and 1.2-1.3 s
// in bf16 with them, 1.8-7.1 s and 2.1-2.8 s without; batch-1 decoding of large-base fp32 10.1
// against 9.1 tokens/s. Where THP is "never" the advice is a no-op.
std::size_t block_class(std::size_t cls) {
  if (!huge_pages_wanted() || cls < kHuge) return cls;
  const std::size_t rounded = (cls + kHuge - 1) / kHuge * kHuge;
  return rounded - cls <= cls / 4 ? rounded : cls;
}

void* system_block(std::size_t cls) {
  if (cls % kHuge != 0 || !huge_pages_wanted()) return std::aligned_alloc(kAlign, cls);  // 128 KiB multiple
  void* p = std::aligned_alloc(kHuge, cls);
  if (p) madvise(p, cls, MADV_HUGEPAGE);  // advice only: on failure the block keeps ordinary pages
  return p;
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  CachingCpuAllocator(c10::Allocator* base, std::size_t limit) : base_(base), limit_(limit) {}

  c10::DataPtr allocate(std::size_t n) SHARELAB_ALLOCATE_CONST override {
    if (n < kMinCached) return base_->allocate(n);
    void* p = take(block_class(size_class(n)));
    return {p, p, &give_back, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &give_back; }
  // Pure virtual from LibTorch 2.3 on; a plain member before.
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }

  CpuCacheStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void release_all() const {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [cls, p] : idle_) {
      size_of_.erase(p);
      std::free(p);
    }
    idle_.clear();
    stats_.cached_bytes = 0;
  }
  // Blocks from base_ normally carry base_'s deleter, except through raw_allocate/raw_deleter
  // (one deleter for every size), so put() hands blocks it did not make back to base_.
  static void give_back(void* p);
  void put(void* p) const;

 private:
  void* take(std::size_t cls) const {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = idle_.find(cls);
      if (it != idle_.end()) {
        void* p = it->second;
        idle_.erase(it);
        stats_.cached_bytes -= cls;
        stats_.live_bytes += cls;
        ++stats_.hits;
        return p;
      }
    }
    void* p = system_block(cls);
    if (!p) {  // idle blocks of other classes may be what the system is missing
      release_all();
      p = system_block(cls);
    }
    if (!p) throw std::bad_alloc();
    std::lock_guard<std::mutex> lock(mu_);
    size_of_[p] = cls;
    stats_.live_bytes += cls;
    ++stats_.misses;
    return p;
  }

  c10::Allocator* base_;
  std::size_t limit_;
  mutable std::mutex mu_;
  mutable std::multimap<std::size_t, void*> idle_;          // size class -> idle block
  mutable std::unordered_map<void*, std::size_t> size_of_;  // every block this allocator made
  mutable CpuCacheStats stats_;
};

CachingCpuAllocator* g_alloc = nullptr;  // leaked on purpose: tensors may outlive static destructors

void CachingCpuAllocator::give_back(void* p) {
  if (p) g_alloc->put(p);
}

void CachingCpuAllocator::put(void* p) const {
  std::unique_lock<std::mutex> lock(mu_);
  const auto it = size_of_.find(p);
  if (it == size_of_.end()) {
    lock.unlock();
    base_->raw_deleter()(p);
    return;
  }
  const std::size_t cls = it->second;
  stats_.live_bytes -= cls;
  if (stats_.cached_bytes + cls > limit_) {  // bounded: past the limit, blocks go back to the system
    size_of_.erase(it);
    std::free(p);
    return;
  }
  idle_.emplace(cls, p);
  stats_.cached_bytes += cls;
}

}  // namespace

bool install_caching_cpu_allocator(std::size_t limit_bytes) {
  static std::once_flag once;
  static bool installed = false;
  std::call_once(once, [&] {
    const char* env = std::getenv("SHARELAB_CPU_CACHE");
    if (env && std::string(env) == "0") return;
    g_alloc = new CachingCpuAllocator(c10::GetDefaultCPUAllocator(), limit_bytes);
    c10::SetCPUAllocator(g_alloc, /*priority=*/1);
    installed = true;
  });
  return installed;
}

CpuCacheStats cpu_cache_stats() { return g_alloc ? g_alloc->stats() : CpuCacheStats{}; }

void release_cpu_cache() {
  if (g_alloc) g_alloc->release_all();
}

}  // namespace sharelab::kernels
