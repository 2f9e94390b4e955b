// Matmul throughput probe.
#include "runner/train/peak_flops.h"

#include <chrono>

#include "kernels/cpu_gemm.h"
#include "kernels/torch_compat.h"
#include <map>
#include <mutex>
#include <tuple>

namespace sharelab::train {

double measured_matmul_flops(const torch::Device& device, bool bf16, int64_t n, bool fresh) {
  static std::mutex mu;
  static std::map<std::tuple<std::string, bool, int, int64_t>, double> cache;
  const auto key = std::make_tuple(device.str(), bf16, at::get_num_threads(), n);
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(key); !fresh && it != cache.end()) return it->second;

  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(0);
  auto opts = torch::TensorOptions().dtype(bf16 ? torch::kBFloat16 : torch::kFloat32);
  auto a = torch::randn({n, n}, gen, torch::kFloat32).to(opts.dtype()).to(device);
  auto b = torch::randn({n, n}, gen, torch::kFloat32).to(opts.dtype()).to(device);
  double best = 1e30;
  for (int i = 0; i < 6; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    // The product the model runs: kernels::matmul routes fp32 CPU to oneDNN (kernels/cpu_gemm.h).
    auto c = kernels::matmul(a.unsqueeze(0), b.unsqueeze(0));
    kernels::compat::synchronize(device);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i > 0) best = std::min(best, s);  // the first product warms up the kernels
  }
  const double flops = 2.0 * double(n) * double(n) * double(n) / best;
  cache[key] = flops;
  return flops;
}

}  // namespace sharelab::train
