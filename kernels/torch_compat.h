// The one adapter between this code and the LibTorch it is built against: Debian's 1.13 (CPU, the
// tuned default) or a 2.x from the PyPI wheel or an official archive (with CUDA, what clusters
// build against). Every API that differs between them, and everything that needs the CUDA headers,
// goes through here; no other file tests TORCH_VERSION_* or SHARELAB_CUDA.
// The differences met, and how each is handled, are listed in README.md "Building against your own
// LibTorch"; ../shared/notes/cluster.md has the sources.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

#include <cstdint>
#include <string>

#define SHARELAB_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// c10::Allocator::allocate lost its const in 2.3 (when the pure virtual copy_data appeared).
#if SHARELAB_TORCH_AT_LEAST(2, 3)
#define SHARELAB_ALLOCATE_CONST
#else
#define SHARELAB_ALLOCATE_CONST const
#endif

namespace sharelab::kernels::compat {

// "1.13.1", "2.11.0": the LibTorch headers this binary was compiled against.
std::string torch_version();
// True when this binary links libtorch_cuda (a CUDA LibTorch); whether a GPU is present is
// torch::cuda::is_available().
bool cuda_build();
// NCCL's version as "2.28.9" in a CUDA build, "" otherwise.
std::string nccl_version();

// --- autocast: 2.4 made it per device type (set_autocast_enabled(kCPU/kCUDA, on),
// set_autocast_dtype); 1.13 has set_cpu_enabled/set_autocast_cpu_dtype for the CPU and
// set_enabled/set_autocast_gpu_dtype for CUDA.
bool autocast_enabled(c10::DeviceType device);

// Autocast to `dtype` on `device`'s type for the guard's lifetime (nothing when `on` is false); the
// previous state comes back when it ends. Cast weights are cached while autocast is on (the weights
// do not change until the optimizer runs) and dropped when the outermost guard ends.
class AutocastGuard {
 public:
  AutocastGuard(bool on, c10::DeviceType device, c10::ScalarType dtype = c10::kBFloat16);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool on_;
  c10::DeviceType device_;
  bool was_enabled_ = false;
  c10::ScalarType was_dtype_ = c10::kBFloat16;
};

// --- attention: at::scaled_dot_product_attention (2.0; `scale` from 2.1, `enable_gqa` from 2.5)
// picks the flash / memory-efficient kernels on CUDA. Not in 1.13.
constexpr bool kHasSdpa = SHARELAB_TORCH_AT_LEAST(2, 5);

// Causal attention of q (B, H, T, D) over k, v (B, G, T, D), H = G * R with the R query heads of a
// kv group adjacent (HF's repeat_kv order); `scale` multiplies q.k. Throws where !kHasSdpa.
at::Tensor sdpa_causal(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale);

// --- CUDA: device selection, synchronisation, batches, peak memory. All are errors in a build
// without CUDA except resolve_device(), synchronize() and to_device(), which are plain on the CPU.

// A device setting (`field` names it in errors, e.g. "train.device") as a device of this build and
// machine: "cuda" without an index is the launcher's GPU for this process (LOCAL_RANK, set by
// torchrun, else 0); a CUDA device becomes the current one. ConfigError when the name is not a
// device, this LibTorch has no CUDA, or the machine has no such GPU.
c10::Device resolve_device(const std::string& name, const std::string& field);

// Makes `device` the current CUDA device (cuBLAS handles, streams and NCCL follow it).
void set_current_device(const c10::Device& device);
// Waits for the device's queued work: a timing around CUDA work measures nothing without it.
void synchronize(const c10::Device& device);
// Host rows to `device`: on CUDA through pinned memory with a non-blocking copy (the caching host
// allocator keeps the pinned block until the copy has run), a plain copy elsewhere.
at::Tensor to_device(const at::Tensor& host, const c10::Device& device);

// The caching allocator's peaks since the last reset: bytes held by tensors, bytes reserved from
// the driver. (2.x moved the statistics types to c10::CachingDeviceAllocator; index 0 of the stat
// arrays is the aggregate in both.)
struct CudaMemory {
  int64_t allocated_peak = 0;
  int64_t reserved_peak = 0;
};
CudaMemory cuda_memory_peak(const c10::Device& device);
void reset_cuda_memory_peak(const c10::Device& device);

}  // namespace sharelab::kernels::compat
