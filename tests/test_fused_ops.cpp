// The CPU fast paths against their oracles: fused elementwise kernels vs their composite LibTorch
// forms, oneDNN products vs LibTorch's, the attention core vs LibTorch 2.x's scaled_dot_product_attention,
// the caching allocator's reuse. Values and gradients.
#include <doctest/doctest.h>

#include "kernels/attention.h"
#include "kernels/cpu_allocator.h"
#include "kernels/cpu_gemm.h"
#include "kernels/fused_ops.h"
#include "kernels/torch_compat.h"

using namespace sharelab;

namespace {

double max_rel(const torch::Tensor& a, const torch::Tensor& b) {
  auto af = a.to(torch::kFloat64), bf = b.to(torch::kFloat64);
  return ((af - bf).abs().max() / bf.abs().max().clamp_min(1e-30)).item<double>();
}

// Forward values and input gradients of f against g for the same inputs and upstream gradient.
template <typename F, typename G>
void check_same(const std::vector<torch::Tensor>& inputs, F fused, G composite, double tol) {
  std::vector<torch::Tensor> a, b;
  for (const auto& t : inputs) {
    a.push_back(t.detach().clone().requires_grad_(t.is_floating_point()));
    b.push_back(t.detach().clone().requires_grad_(t.is_floating_point()));
  }
  const std::vector<torch::Tensor> ya = fused(a), yb = composite(b);
  REQUIRE(ya.size() == yb.size());
  torch::Tensor la = torch::zeros({}, torch::kFloat64), lb = torch::zeros({}, torch::kFloat64);
  for (size_t i = 0; i < ya.size(); ++i) {
    CHECK((ya[i].sizes() == yb[i].sizes()));
    CHECK((ya[i].scalar_type() == yb[i].scalar_type()));
    CHECK(max_rel(ya[i], yb[i]) < tol);
    // A fixed, output-specific upstream gradient.
    auto w = torch::linspace(-1, 1, ya[i].numel(), torch::kFloat64).view(ya[i].sizes());
    la = la + (ya[i].to(torch::kFloat64) * w).sum();
    lb = lb + (yb[i].to(torch::kFloat64) * w).sum();
  }
  la.backward();
  lb.backward();
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].requires_grad()) continue;
    REQUIRE(a[i].grad().defined());
    CAPTURE(i);
    CHECK(max_rel(a[i].grad(), b[i].grad()) < tol);
  }
}

}  // namespace

TEST_CASE("fused RMSNorm equals the composite form: values, input and weight gradients") {
  REQUIRE(kernels::fused_ops_enabled());
  torch::manual_seed(1);
  for (int64_t C : {256, 100}) {  // 100: a tail past the 16-lane partial sums
    CAPTURE(C);
    auto x = torch::randn({3, 70, C});  // 210 rows: more than one 64-row weight-gradient block
    auto w = torch::rand({C}) + 0.5;
    check_same(
        {x, w}, [](auto& in) { return std::vector<torch::Tensor>{kernels::rms_norm(in[0], in[1], 1e-5)}; },
        [](auto& in) { return std::vector<torch::Tensor>{kernels::rms_norm_composite(in[0], in[1], 1e-5)}; }, 1e-5);
  }
}

TEST_CASE("fused head split + RoPE equals the composite form, fp32 and bf16, MHA and GQA") {
  torch::manual_seed(2);
  const int64_t B = 2, T = 12, D = 8;
  auto freqs = torch::outer(torch::arange(T, torch::kFloat32), torch::rand({D / 2}));
  auto cos = torch::cat({freqs, freqs}, -1).cos(), sin = torch::cat({freqs, freqs}, -1).sin();
  for (auto [H, G] : {std::pair<int64_t, int64_t>{4, 4}, {6, 2}}) {
    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
      CAPTURE(H);
      CAPTURE(G);
      CAPTURE(dtype);
      auto qkv = torch::randn({B, T, (H + 2 * G) * D}).to(dtype);
      auto run = [&](auto fn) {
        return [&, fn](auto& in) {
          auto [q, k, v] = fn(in[0], cos, sin, H, G, 0.35);
          return std::vector<torch::Tensor>{q, k, v};
        };
      };
      // bf16: the fused kernel rounds once, the composite after every op.
      check_same({qkv}, run(kernels::split_heads_rope), run(kernels::split_heads_rope_composite),
                 dtype == torch::kFloat32 ? 1e-6 : 2e-2);
    }
  }
}

TEST_CASE("fused SwiGLU activation equals the composite form, fp32 and bf16") {
  torch::manual_seed(4);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    CAPTURE(dtype);
    auto gate_up = (torch::randn({2, 33, 2 * 45}) * 3).to(dtype);  // 45: odd width
    check_same(
        {gate_up}, [](auto& in) { return std::vector<torch::Tensor>{kernels::swiglu(in[0])}; },
        [](auto& in) { return std::vector<torch::Tensor>{kernels::swiglu_composite(in[0])}; },
        dtype == torch::kFloat32 ? 1e-6 : 2e-2);
  }
}

TEST_CASE("causal softmax: masked above the diagonal, gradients equal masked_fill + softmax") {
  torch::manual_seed(5);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    CAPTURE(dtype);
    auto scores = torch::randn({2, 3, 9, 9}).to(dtype);
    auto p = kernels::causal_softmax(scores);
    CHECK(p.triu(1).abs().sum().item<double>() == 0.0);
    CHECK(max_rel(p.to(torch::kFloat32).sum(-1), torch::ones({2, 3, 9})) < 1e-2);
    check_same(
        {scores}, [](auto& in) { return std::vector<torch::Tensor>{kernels::causal_softmax(in[0])}; },
        [](auto& in) { return std::vector<torch::Tensor>{kernels::causal_softmax_composite(in[0])}; }, 1e-6);
  }
}

TEST_CASE("attention: scaled_dot_product_attention (LibTorch >= 2.5) equals the composite core, MHA and GQA") {
  if (!kernels::compat::kHasSdpa) {
    MESSAGE("LibTorch " << kernels::compat::torch_version() << " has no scaled_dot_product_attention: not compared");
    CHECK_THROWS(kernels::causal_attention_sdpa(torch::zeros({1, 1, 4, 8}), torch::zeros({1, 1, 4, 8}),
                                                torch::zeros({1, 1, 4, 8})));
    return;
  }
  torch::manual_seed(5);
  const int64_t B = 2, T = 37, D = 16;
  for (auto [G, R] : {std::pair<int64_t, int64_t>{4, 1}, {2, 3}}) {
    CAPTURE(G);
    CAPTURE(R);
    // q carries the 1/sqrt(D) scale, stacked (B, G, R*T, D) as split_heads_rope returns it.
    auto q = torch::randn({B, G, R * T, D}) / std::sqrt(double(D)), k = torch::randn({B, G, T, D}),
         v = torch::randn({B, G, T, D});
    check_same(
        {q, k, v}, [](auto& in) { return std::vector<torch::Tensor>{kernels::causal_attention_sdpa(in[0], in[1], in[2])}; },
        [](auto& in) { return std::vector<torch::Tensor>{kernels::causal_attention_composite(in[0], in[1], in[2])}; },
        1e-5);
  }
  // The first query attends to the first key only: its output is v[0] of its group.
  auto q = torch::randn({1, 2, 3 * 5, 8}), k = torch::randn({1, 2, 5, 8}), v = torch::randn({1, 2, 5, 8});
  auto y = kernels::causal_attention_sdpa(q, k, v).view({1, 5, 2, 3, 8});  // (B, T, G, R, D)
  CHECK(max_rel(y.select(1, 0).select(2, 1), v.select(2, 0)) < 1e-6);     // t 0, r 1: v[:, g, 0]
}

TEST_CASE("fp32 CPU products (oneDNN when built with it) equal LibTorch's, with gradients") {
  torch::manual_seed(3);
  auto nt = [](auto& in) { return std::vector<torch::Tensor>{torch::matmul(in[0], in[1].transpose(-1, -2))}; };
  SUBCASE("linear, few rows (W x^T)") {
    check_same(
        {torch::randn({3, 5, 40}), torch::randn({24, 40})},
        [](auto& in) { return std::vector<torch::Tensor>{kernels::linear(in[0], in[1])}; },
        [](auto& in) { return std::vector<torch::Tensor>{torch::nn::functional::linear(in[0], in[1])}; }, 1e-5);
  }
  SUBCASE("linear, many rows (x W^T)") {
    check_same(
        {torch::randn({3, 100, 40}), torch::randn({24, 40})},
        [](auto& in) { return std::vector<torch::Tensor>{kernels::linear(in[0], in[1])}; },
        [](auto& in) { return std::vector<torch::Tensor>{torch::nn::functional::linear(in[0], in[1])}; }, 1e-5);
  }
  SUBCASE("batched, with a transposed operand read in place") {
    check_same(
        {torch::randn({2, 3, 7, 16}), torch::randn({2, 3, 9, 16})},
        [](auto& in) { return std::vector<torch::Tensor>{kernels::matmul(in[0], in[1].transpose(-1, -2))}; }, nt,
        1e-5);
  }
  SUBCASE("batched, plain operands") {
    check_same(
        {torch::randn({4, 7, 16}), torch::randn({4, 16, 5})},
        [](auto& in) { return std::vector<torch::Tensor>{kernels::matmul(in[0], in[1])}; },
        [](auto& in) { return std::vector<torch::Tensor>{torch::matmul(in[0], in[1])}; }, 1e-5);
  }
  SUBCASE("under bf16 autocast the product is LibTorch's bf16 one") {
    torch::Tensor y;
    {
      sharelab::kernels::compat::AutocastGuard autocast(true, c10::DeviceType::CPU);
      y = kernels::linear(torch::randn({4, 8}), torch::randn({3, 8}));
    }
    CHECK((y.scalar_type() == torch::kBFloat16));
  }
}

TEST_CASE("caching CPU allocator reuses freed blocks and keeps data intact") {
  if (!kernels::install_caching_cpu_allocator()) return;  // SHARELAB_CPU_CACHE=0
  const auto before = kernels::cpu_cache_stats();
  const void* first = nullptr;
  {
    auto t = torch::full({1 << 20}, 3.0f);  // 4 MiB: cached size
    first = t.data_ptr();
  }
  auto again = torch::empty({(1 << 20) - 1000});  // same size class
  CHECK((again.data_ptr() == first));
  CHECK(kernels::cpu_cache_stats().hits > before.hits);
  again.fill_(2.0f);
  CHECK(again.sum().item<double>() == doctest::Approx(2.0 * ((1 << 20) - 1000)));
  auto small = torch::ones({10});  // small blocks stay with LibTorch's allocator
  CHECK(small.sum().item<float>() == 10.0f);
  kernels::release_cpu_cache();
  CHECK(kernels::cpu_cache_stats().cached_bytes == 0);
}

TEST_CASE("caching CPU allocator puts blocks of whole huge pages on 2 MiB boundaries") {
  if (!kernels::install_caching_cpu_allocator()) return;  // SHARELAB_CPU_CACHE=0
  const char* env = std::getenv("SHARELAB_HUGE_PAGES");
  const bool huge = !(env && std::string(env) == "0");
  const auto at_2mib = [](const torch::Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()) % (2 << 20) == 0; };
  const int64_t mib = 1 << 18;  // floats per MiB
  auto a = torch::ones({16 * mib});       // 16 MiB: already whole huge pages
  auto b = torch::ones({34 * mib / 10});  // 3.4 MiB: its 3.5 MiB class is rounded up to 4 MiB
  CHECK(at_2mib(a) == huge);
  CHECK(at_2mib(b) == huge);
  CHECK(a.sum().item<double>() == double(16 * mib));  // the memory works
  CHECK(b.sum().item<double>() == double(34 * mib / 10));
  const void* block = b.data_ptr();
  b = torch::Tensor();
  // 3.55 MiB: class 3.75 MiB, also rounded to 4 MiB, so b's idle block again (without huge pages
  // the classes differ and b's block stays in the cache)
  auto c = torch::empty({355 * mib / 100});
  CHECK((c.data_ptr() == block) == huge);
  kernels::release_cpu_cache();
}
