// The LibTorch adapter (torch_compat.h). SHARELAB_CUDA is defined by CMakeLists.txt when the LibTorch
// found carries libtorch_cuda; the CUDA headers are included only then.
#include "kernels/torch_compat.h"

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <stdexcept>

#include "common/errors.h"
#include "common/launch_env.h"

#ifdef SHARELAB_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <nccl.h>
#endif

namespace sharelab::kernels::compat {

namespace {

#ifndef SHARELAB_CUDA
[[noreturn]] void no_cuda(const char* what) {
  throw std::runtime_error(std::string(what) + ": this binary was built against a LibTorch without CUDA (" +
                           torch_version() + ")");
}
#else
c10::DeviceIndex cuda_index(const c10::Device& device) {
  if (!device.is_cuda()) throw std::invalid_argument("not a CUDA device: " + device.str());
  return device.has_index() ? device.index() : c10::cuda::current_device();
}
#endif

c10::ScalarType autocast_dtype(c10::DeviceType device) {
#if SHARELAB_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

void set_autocast(c10::DeviceType device, bool on, c10::ScalarType dtype) {
#if SHARELAB_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, on);
  if (on) at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(on);
    if (on) at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(on);
    if (on) at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace

std::string torch_version() { return TORCH_VERSION; }

bool cuda_build() {
#ifdef SHARELAB_CUDA
  return true;
#else
  return false;
#endif
}

std::string nccl_version() {
#ifdef SHARELAB_CUDA
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unknown";
  // NCCL >= 2.9 encodes major * 10000 + minor * 100 + patch.
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
#else
  return "";
#endif
}

bool autocast_enabled(c10::DeviceType device) {
#if SHARELAB_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

AutocastGuard::AutocastGuard(bool on, c10::DeviceType device, c10::ScalarType dtype) : on_(on), device_(device) {
  if (!on_) return;
  was_enabled_ = autocast_enabled(device_);
  was_dtype_ = autocast_dtype(device_);
  set_autocast(device_, true, dtype);
}

AutocastGuard::~AutocastGuard() {
  if (!on_) return;
  set_autocast(device_, was_enabled_, was_dtype_);
  if (!was_enabled_) at::autocast::clear_cache();
}

at::Tensor sdpa_causal(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
#if SHARELAB_TORCH_AT_LEAST(2, 5)
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, /*is_causal=*/true, scale,
                                          /*enable_gqa=*/k.size(1) != q.size(1));
#else
  (void)q, (void)k, (void)v, (void)scale;
  throw std::runtime_error("scaled_dot_product_attention needs LibTorch >= 2.5; this is " + torch_version());
#endif
}

c10::Device resolve_device(const std::string& name, const std::string& field) {
  c10::Device d = c10::kCPU;
  try {
    d = c10::Device(name);
  } catch (const c10::Error&) {
    throw ConfigError(field + " '" + name + "' is not a device (expected cpu, cuda or cuda:N)");
  }
  if (!d.is_cuda()) return d;
  if (!torch::cuda::is_available())
    throw ConfigError(field + " '" + name + "': this LibTorch (" + torch_version() +
                      (cuda_build() ? ", CUDA" : ", CPU only") + ") sees no CUDA device");
  const int count = int(torch::cuda::device_count());
  if (!d.has_index()) {
    const int rank = local_rank();
    if (rank >= count)
      throw ConfigError("LOCAL_RANK=" + std::to_string(rank) + " but this node has " + std::to_string(count) +
                        " CUDA devices");
    d = c10::Device(c10::kCUDA, c10::DeviceIndex(rank));
  }
  if (d.index() >= count)
    throw ConfigError(field + " '" + name + "': this node has " + std::to_string(count) + " CUDA devices");
  set_current_device(d);
  return d;
}

void set_current_device(const c10::Device& device) {
#ifdef SHARELAB_CUDA
  c10::cuda::set_device(cuda_index(device));
#else
  (void)device;
  no_cuda("set_current_device");
#endif
}

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

at::Tensor to_device(const at::Tensor& host, const c10::Device& device) {
  if (!device.is_cuda()) return host.to(device);
  return host.pin_memory().to(device, /*non_blocking=*/true);
}

CudaMemory cuda_memory_peak(const c10::Device& device) {
#ifdef SHARELAB_CUDA
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(cuda_index(device));
  return {stats.allocated_bytes[0].peak, stats.reserved_bytes[0].peak};  // [0]: all pools
#else
  (void)device;
  no_cuda("cuda_memory_peak");
#endif
}

void reset_cuda_memory_peak(const c10::Device& device) {
#ifdef SHARELAB_CUDA
  c10::cuda::CUDACachingAllocator::resetPeakStats(cuda_index(device));
#else
  (void)device;
  no_cuda("reset_cuda_memory_peak");
#endif
}

}  // namespace sharelab::kernels::compat
