// bench_gemm: the two layouts kernels::linear can give oneDNN's fp32 sgemm, at the model's shapes:
// y = x W^T (x rows as the left operand) and y^T = W x^T (the weight as the untransposed left
// operand). kernels/cpu_gemm.cpp takes the second below kFewRows rows; this measures why, and where.
// Each product reads one of 8 distinct weights in turn, so full-size weights come from DRAM as in
// a forward pass. Usage: bench_gemm [threads]
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/cpu_gemm.h"

using namespace sharelab;

namespace {

// Best of 3 passes over the weights: ms per product.
template <typename F>
double time_ms(int n, F&& product) {
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) product(i);
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best / n;
}

}  // namespace

int main(int argc, char** argv) {
  at::set_num_threads(argc > 1 ? std::stoi(argv[1]) : 2);
  if (!kernels::onednn_sgemm_enabled()) fmt::print("bench_gemm: this build has no oneDNN; both forms run LibTorch's mm\n");
  struct Shape {
    int64_t n, k;
    const char* what;
  };
  const Shape shapes[] = {{5632, 2048, "large-base gate/up"}, {2048, 5632, "large-base down"},
                          {2048, 2048, "large-base q/k/v/o"}, {1536, 576, "mobilellm-125m gate/up"},
                          {1408, 256, "cpu-scale gate+up"}};
  const int64_t rows[] = {1, 16, 128, 256, 512, 2048};
  const int kWeights = 8;
  fmt::print("fp32 sgemm, {} threads, GFLOP/s (ms per product)\n", at::get_num_threads());
  fmt::print("{:<32} {:>5} {:>22} {:>22} {:>7}\n", "weight (N x K)", "rows", "x W^T", "W x^T", "faster");
  for (const auto& s : shapes) {
    std::vector<torch::Tensor> w;
    for (int i = 0; i < kWeights; ++i) w.push_back(torch::randn({s.n, s.k}));
    for (const int64_t m : rows) {
      auto x = torch::randn({m, s.k});
      auto y = torch::empty({m, s.n});
      const float* px = x.data_ptr<float>();
      float* py = y.data_ptr<float>();
      const double a = time_ms(kWeights, [&](int i) {
        kernels::sgemm(false, true, m, s.n, s.k, px, s.k, w[size_t(i)].data_ptr<float>(), s.k, 0.f, py, s.n);
      });
      const double b = time_ms(kWeights, [&](int i) {
        kernels::sgemm(false, true, s.n, m, s.k, w[size_t(i)].data_ptr<float>(), s.k, px, s.k, 0.f, py, m);
      });
      const double gf = 2.0 * double(m * s.n * s.k) / 1e6;
      fmt::print("{:<32} {:>5} {:>12.0f} ({:>7.2f}) {:>12.0f} ({:>7.2f}) {:>7}\n",
                 fmt::format("{} {}x{}", s.what, s.n, s.k), m, gf / a, a, gf / b, b, a <= b ? "x W^T" : "W x^T");
    }
  }
  return 0;
}
