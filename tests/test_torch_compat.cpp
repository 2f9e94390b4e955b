// The LibTorch adapter (kernels/torch_compat.h) in whichever configuration this binary was built:
// Debian's 1.13 (CPU) or LibTorch 2.x with CUDA. The CUDA cases run only where a GPU is visible.
#include <doctest/doctest.h>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <cstdlib>

#include "common/errors.h"
#include "common/launch_env.h"
#include "kernels/torch_compat.h"

using namespace sharelab;
namespace compat = sharelab::kernels::compat;

TEST_CASE("the adapter names the LibTorch it was compiled against") {
  const std::string v = compat::torch_version();
  CHECK(v.rfind(std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + ".", 0) == 0);
  // A CUDA build links NCCL and reports its version; a CPU build reports none.
  const std::string nccl = compat::nccl_version();
  CHECK(compat::cuda_build() == !nccl.empty());
  if (compat::cuda_build()) CHECK(nccl.rfind("2.", 0) == 0);
  MESSAGE("LibTorch " << v << (compat::cuda_build() ? ", CUDA, NCCL " + nccl : ", CPU only"));
}

TEST_CASE("AutocastGuard turns CPU autocast on for its scope only, and bf16 products follow it") {
  REQUIRE_FALSE(compat::autocast_enabled(c10::DeviceType::CPU));
  {
    compat::AutocastGuard off(false, c10::DeviceType::CPU);
    CHECK_FALSE(compat::autocast_enabled(c10::DeviceType::CPU));
  }
  {
    compat::AutocastGuard on(true, c10::DeviceType::CPU);
    CHECK(compat::autocast_enabled(c10::DeviceType::CPU));
    CHECK_FALSE(compat::autocast_enabled(c10::DeviceType::CUDA));
    CHECK((torch::mm(torch::randn({4, 8}), torch::randn({8, 3})).scalar_type() == torch::kBFloat16));
  }
  CHECK_FALSE(compat::autocast_enabled(c10::DeviceType::CPU));
  CHECK((torch::mm(torch::randn({4, 8}), torch::randn({8, 3})).scalar_type() == torch::kFloat32));
}

TEST_CASE("a nested AutocastGuard restores the outer one's state") {
  compat::AutocastGuard outer(true, c10::DeviceType::CPU);
  {
    compat::AutocastGuard inner(true, c10::DeviceType::CPU);  // 1.13 CPU autocast knows bf16 only
  }
  CHECK(compat::autocast_enabled(c10::DeviceType::CPU));
  CHECK((torch::mm(torch::randn({4, 8}), torch::randn({8, 3})).scalar_type() == torch::kBFloat16));
}

TEST_CASE("resolve_device: cpu as is, bad names and absent GPUs are one-line ConfigErrors naming the field") {
  CHECK(compat::resolve_device("cpu", "train.device").is_cpu());
  CHECK_THROWS_WITH_AS(compat::resolve_device("gpu0", "train.device"),
                       doctest::Contains("train.device 'gpu0' is not a device"), ConfigError);
  if (!torch::cuda::is_available())
    CHECK_THROWS_WITH_AS(compat::resolve_device("cuda", "profile: --device"),
                         doctest::Contains("profile: --device 'cuda': this LibTorch"), ConfigError);
}

TEST_CASE("to_device and synchronize are plain on the CPU") {
  auto t = torch::arange(12, torch::kInt32).view({3, 4});
  compat::synchronize(torch::kCPU);
  CHECK(torch::equal(compat::to_device(t, torch::kCPU), t));
}

TEST_CASE("CUDA helpers: errors without a GPU, real numbers with one") {
  if (!torch::cuda::is_available()) {
    if (!compat::cuda_build()) {
      CHECK_THROWS_WITH(compat::cuda_memory_peak(torch::Device("cuda:0")),
                        doctest::Contains("without CUDA"));
      CHECK_THROWS(compat::set_current_device(torch::Device("cuda:0")));
    }
    MESSAGE("no CUDA device visible: pinned copies and peak memory not exercised");
    return;
  }
  const torch::Device dev("cuda:0");
  compat::set_current_device(dev);
  compat::reset_cuda_memory_peak(dev);
  auto rows = torch::arange(1 << 20, torch::kInt32).view({1024, 1024});
  auto on_gpu = compat::to_device(rows, dev);
  compat::synchronize(dev);
  CHECK(on_gpu.is_cuda());
  CHECK(torch::equal(on_gpu.cpu(), rows));
  const auto peak = compat::cuda_memory_peak(dev);
  CHECK(peak.allocated_peak >= int64_t(4) << 20);
  CHECK(peak.reserved_peak >= peak.allocated_peak);
}

TEST_CASE("LOCAL_RANK: unset is 0, numbers are read, anything else is a ConfigError") {
  ::unsetenv("LOCAL_RANK");
  CHECK(local_rank() == 0);
  ::setenv("LOCAL_RANK", "3", 1);
  CHECK(local_rank() == 3);
  ::setenv("LOCAL_RANK", "-1", 1);
  CHECK_THROWS_AS(local_rank(), ConfigError);
  ::setenv("LOCAL_RANK", "two", 1);
  CHECK_THROWS_WITH_AS(local_rank(), doctest::Contains("LOCAL_RANK='two'"), ConfigError);
  ::unsetenv("LOCAL_RANK");
}
