// Fast init and load (arch/fast_init, TensorFileReader): the parallel draws are bit-identical to
// LibTorch's sequential normal_ and leave every generator where it would have been; the initial
// distributions have the intended moments; the native checkpoint loads back exactly.
#include <doctest/doctest.h>

#include <H5Cpp.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <time.h>

#include "arch/fast_init.h"
#include "arch/registry.h"
#include "arch/weights.h"
#include "common/errors.h"
#include "h5_test_util.h"

using namespace sharelab::arch;

namespace {

at::CPUGeneratorImpl* impl(at::Generator& g) { return g.get<at::CPUGeneratorImpl>(); }

// The next few raw draws: equal when two generators are in the same state.
std::vector<uint32_t> next_draws(at::Generator& g, int n = 4) {
  std::vector<uint32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(impl(g)->random());
  return out;
}

// Runs f at 1, 2 and 3 threads, with and without our copy of the normal kernel (where this build
// and CPU allow it at all), restoring both afterwards.
template <class F>
void at_thread_counts(F f) {
  const int before = at::get_num_threads();
  for (int fast : {0, 1}) {
    CAPTURE(fast);
    exact_fast_normal(fast);
    for (int t : {1, 2, 3}) {
      CAPTURE(t);
      at::set_num_threads(t);
      f();
    }
  }
  at::set_num_threads(before);
}

std::string tmp_path(const std::string& name) {
  return (std::string(SHARELAB_BINARY_DIR) + "/test_init_load_" + name + ".h5");
}

// reset_parameters as it was written before the parallel draws: each weight in turn, one generator.
void reference_reset(CausalLM& m, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const double std = m->spec().init_std, out_std = std / std::sqrt(2.0 * double(m->spec().n_layers));
  auto normal = [&](torch::Tensor& w, double sd) {
    if (w.is_cpu() && w.scalar_type() == torch::kFloat32) w.normal_(0.0, sd, gen);
    else w.copy_(at::normal(0.0, sd, w.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat32)));
  };
  normal(m->tok_emb->weight, std);
  for (size_t i = 0; i < m->attn->size(); ++i) {
    auto a = m->attn->ptr<AttentionImpl>(i);
    normal(a->wq->weight, std);
    normal(a->wk->weight, std);
    normal(a->wv->weight, std);
    normal(a->wo->weight, out_std);
  }
  for (size_t i = 0; i < m->ffn->size(); ++i) {
    auto f = m->ffn->ptr<SwiGLUImpl>(i);
    normal(f->w1->weight, std);
    normal(f->w3->weight, std);
    normal(f->w2->weight, out_std);
  }
  for (auto* pool : {&m->attn_norm, &m->ffn_norm})
    for (size_t i = 0; i < (*pool)->size(); ++i) (*pool)->ptr<RMSNormImpl>(i)->weight.fill_(1.0);
  m->norm->weight.fill_(1.0);
  if (m->lm_head) normal(m->lm_head->weight, std);
}

void check_same_parameters(CausalLM& a, CausalLM& b) {
  auto pb = b->named_parameters();
  REQUIRE(a->named_parameters().size() == pb.size());
  for (const auto& p : a->named_parameters()) {
    CAPTURE(p.key());
    CHECK((p.value().scalar_type() == pb[p.key()].scalar_type()));
    CHECK(torch::equal(p.value(), pb[p.key()]));
  }
}

// The embedding and lm_head (4099 x 72, not a multiple of 16) span two parallel pieces of 2^18.
ModelSpec medium() { return resolve_preset("debug", {"d_model=72", "ffn_dim=200", "vocab_size=4099"}); }

}  // namespace

TEST_CASE("skip_draws advances a generator exactly as that many draws") {
  for (uint64_t before : {0ull, 1ull, 623ull, 700ull}) {
    for (uint64_t n : {0ull, 1ull, 5ull, 622ull, 623ull, 624ull, 625ull, 1247ull, 1248ull, 10000ull, 1000003ull}) {
      CAPTURE(before);
      CAPTURE(n);
      auto a = at::detail::createCPUGenerator(42), b = at::detail::createCPUGenerator(42);
      for (uint64_t i = 0; i < before; ++i) impl(a)->random(), impl(b)->random();
      for (uint64_t i = 0; i < n; ++i) impl(a)->random();
      skip_draws(*impl(b), n);
      CHECK(next_draws(a, 700) == next_draws(b, 700));  // past the next twist too
    }
  }
}

TEST_CASE("our copy of LibTorch's normal kernel is used where it reproduces normal_'s bits") {
  const bool on = exact_fast_normal(1);
  MESSAGE("exact fast normal kernel: " << std::string(on ? "on" : "off (normal_ on each piece)"));
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && TORCH_VERSION_MAJOR < 2
  // Debian's LibTorch 1.13 (AVX2 kernels, GCC 12 like ours): the copy must match on an AVX2 CPU.
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) CHECK(on);
#endif
}

TEST_CASE("normal_fill is bit-identical to normal_ in turn, and leaves the generator where it would") {
  // Sizes around the 16-blocks and the 2^18-element pieces, under 16 (the other sampler), empty.
  const std::vector<int64_t> sizes = {16,     17,     31,          32,          1000,        7,     15,     0,
                                      262144, 262145, 262144 + 15, 262144 + 16, 3 * 262144 + 9, 1 << 20, 1, 48};
  at_thread_counts([&] {
    for (uint64_t seed : {0ull, 5ull}) {
      std::vector<torch::Tensor> ref, fast;
      std::vector<NormalFill> fills;
      for (size_t i = 0; i < sizes.size(); ++i) {
        ref.push_back(torch::empty({sizes[i]}));
        fast.push_back(torch::empty({sizes[i]}));
        fills.push_back({fast.back(), 0.01 * double(i + 1)});
      }
      auto g_ref = at::detail::createCPUGenerator(seed), g_fast = at::detail::createCPUGenerator(seed);
      for (size_t i = 0; i < sizes.size(); ++i) ref[i].normal_(0.0, fills[i].sd, g_ref);
      normal_fill(fills, g_fast);
      for (size_t i = 0; i < sizes.size(); ++i) {
        CAPTURE(sizes[i]);
        CHECK(torch::equal(ref[i], fast[i]));
      }
      CHECK(next_draws(g_ref) == next_draws(g_fast));
    }
  });
}

TEST_CASE("normal_fill: 2-D, non-contiguous and bf16 weights match the sequential draws") {
  at_thread_counts([&] {
    auto a = torch::empty({300, 1000}), b = torch::empty({300, 1000});
    auto nc_ref = torch::empty({40, 30}).t(), nc_fast = torch::empty({40, 30}).t();  // transposed views
    auto h_ref = torch::empty({513, 600}, torch::kBFloat16), h_fast = torch::empty({513, 600}, torch::kBFloat16);
    auto g_ref = at::detail::createCPUGenerator(3), g_fast = at::detail::createCPUGenerator(3);
    torch::NoGradGuard no_grad;
    a.normal_(0.0, 0.02, g_ref);
    nc_ref.normal_(0.0, 0.5, g_ref);
    h_ref.copy_(at::normal(0.0, 0.3, h_ref.sizes(), g_ref, torch::TensorOptions().dtype(torch::kFloat32)));
    normal_fill({{b, 0.02}, {nc_fast, 0.5}, {h_fast, 0.3}}, g_fast);
    CHECK(torch::equal(a, b));
    CHECK(torch::equal(nc_ref, nc_fast));
    CHECK(torch::equal(h_ref, h_fast));
    CHECK(next_draws(g_ref) == next_draws(g_fast));
  });
}

TEST_CASE("uninitialised modules: the plain modules' parameters and options, and the global generator's state") {
  auto& global = const_cast<at::Generator&>(at::detail::getDefaultCPUGenerator());
  torch::manual_seed(9);
  torch::nn::Linear plain(torch::nn::LinearOptions(48, 100).bias(false));
  torch::nn::Embedding plain_emb(1000, 24);
  const auto after_plain = next_draws(global);
  torch::manual_seed(9);
  auto lin = uninitialized_linear(48, 100);
  auto emb = uninitialized_embedding(1000, 24);
  CHECK(next_draws(global) == after_plain);

  CHECK(lin->weight.sizes() == plain->weight.sizes());
  CHECK(lin->weight.requires_grad());
  CHECK(lin->options.in_features() == 48);
  CHECK(lin->options.out_features() == 100);
  CHECK(!lin->bias.defined());
  REQUIRE(lin->named_parameters().size() == 1);
  CHECK(lin->named_parameters()["weight"].is_same(lin->weight));
  CHECK(emb->weight.sizes() == plain_emb->weight.sizes());
  CHECK(!emb->options._weight().defined());
  CHECK(emb->named_parameters()["weight"].is_same(emb->weight));
  // They compute: the forward pass of the plain module with the same weights.
  torch::NoGradGuard no_grad;
  lin->weight.copy_(plain->weight);
  auto x = torch::randn({3, 48});
  CHECK(torch::equal(lin(x), plain(x)));
}

TEST_CASE("the model's initial weights are those of the sequential draw, at any thread count") {
  for (const ModelSpec& s : {medium(), resolve_preset("debug", {"scheme=shared-ffn"}),
                             resolve_preset("debug", {"tie_embeddings=true"})}) {
    CAPTURE(s.name);
    CAPTURE(s.scheme);
    CausalLM ref(s);
    reference_reset(ref, 0);
    at_thread_counts([&] {
      CausalLM m(s);  // the constructor's reset_parameters(0)
      check_same_parameters(m, ref);
      reference_reset(ref, 17);
      m->reset_parameters(17);
      check_same_parameters(m, ref);
      reference_reset(ref, 0);
    });
  }
}

TEST_CASE("reset_parameters on a bf16 model equals the fp32 draw cast to bf16") {
  CausalLM a(medium()), b(medium());
  a->to(torch::kBFloat16);
  b->to(torch::kBFloat16);
  a->reset_parameters(4);
  reference_reset(b, 4);
  check_same_parameters(a, b);
}

TEST_CASE("initial moments: N(0, init_std) inputs, init_std / sqrt(2 n_layers) output projections, norms 1") {
  const ModelSpec s = medium();
  CausalLM m(s);
  const double in_std = s.init_std, out_std = s.init_std / std::sqrt(2.0 * double(s.n_layers));
  std::vector<torch::Tensor> inputs{m->tok_emb->weight.flatten()}, outputs;
  if (m->lm_head) inputs.push_back(m->lm_head->weight.flatten());
  for (size_t i = 0; i < m->attn->size(); ++i) {
    auto a = m->attn->ptr<AttentionImpl>(i);
    for (auto* w : {&a->wq->weight, &a->wk->weight, &a->wv->weight}) inputs.push_back(w->flatten());
    outputs.push_back(a->wo->weight.flatten());
  }
  for (size_t i = 0; i < m->ffn->size(); ++i) {
    auto f = m->ffn->ptr<SwiGLUImpl>(i);
    inputs.push_back(f->w1->weight.flatten());
    inputs.push_back(f->w3->weight.flatten());
    outputs.push_back(f->w2->weight.flatten());
  }
  for (auto [ws, sd] : {std::pair{inputs, in_std}, std::pair{outputs, out_std}}) {
    const auto all = torch::cat(ws).to(torch::kFloat64);
    const double n = double(all.numel()), mean = all.mean().item<double>(), std = all.std().item<double>();
    CAPTURE(n);
    CAPTURE(sd);
    CHECK(std::abs(mean) < 5 * sd / std::sqrt(n));
    CHECK(std::abs(std / sd - 1) < 5 / std::sqrt(2 * n));
    // Each tensor on its own too: no piece drawn with the wrong scale or left empty.
    for (const auto& w : ws) CHECK(std::abs(w.std().item<double>() / sd - 1) < 0.1);
  }
  for (const auto& p : m->named_parameters())
    if (p.key().find("norm") != std::string::npos) CHECK(torch::equal(p.value(), torch::ones_like(p.value())));
}

TEST_CASE("cast_into gives copy_'s bf16 values, NaN, infinities and subnormals included") {
  auto src = torch::randn({4099}) * 1e3;
  src.narrow(0, 0, 4) = torch::tensor({INFINITY, -INFINITY, 1e-40f, -0.0f});
  src.narrow(0, 100, 2000).mul_(1e-30);
  auto a = torch::empty({4099}, torch::kBFloat16), b = torch::empty({4099}, torch::kBFloat16);
  cast_into(a, src);
  b.copy_(src);
  CHECK(torch::equal(a.view(torch::kInt16), b.view(torch::kInt16)));  // bit for bit
  src[3000] = NAN;
  cast_into(a, src);
  b.copy_(src);
  CHECK(torch::equal(a.view(torch::kInt16), b.view(torch::kInt16)));
}

TEST_CASE("native checkpoint round trip: fp32 and bf16 models, at any thread count") {
  const ModelSpec s = medium();
  const std::string path = tmp_path("roundtrip");
  CausalLM m(s);
  m->reset_parameters(3);
  save_weights(m, path);
  at_thread_counts([&] {
    CausalLM back(s);  // seed 0: different weights
    load_weights(back, path);
    check_same_parameters(back, m);
    // A bf16 model takes the fp32 checkpoint cast, as copy_ would.
    CausalLM half(s);
    half->to(torch::kBFloat16);
    load_weights(half, path);
    for (const auto& p : half->named_parameters())
      CHECK(torch::equal(p.value(), m->named_parameters()[p.key()].to(torch::kBFloat16)));
    // And read_tensor_file gives the same tensors.
    const auto f = read_tensor_file(path);
    for (const auto& p : m->named_parameters()) CHECK(torch::equal(f.tensors.at(p.key()), p.value()));
  });
  // A bf16 checkpoint (stored as float32, tagged bfloat16) into an fp32 model: the bf16 values.
  CausalLM half(s);
  half->reset_parameters(3);
  half->to(torch::kBFloat16);
  save_weights(half, path);
  CausalLM full(s);
  load_weights(full, path);
  for (const auto& p : full->named_parameters())
    CHECK(torch::equal(p.value(), half->named_parameters()[p.key()].to(torch::kFloat32)));
  std::remove(path.c_str());
}

TEST_CASE("tensor files of every supported dtype read back exactly") {
  const std::string path = tmp_path("dtypes");
  TensorFile f;
  f.attrs["format"] = "test";
  f.tensors["f32"] = torch::randn({1000, 37});
  f.tensors["f64"] = torch::randn({100}, torch::kFloat64);
  f.tensors["i64"] = torch::arange(-5, 500, torch::kInt64);
  f.tensors["i32"] = torch::arange(-5, 77, torch::kInt32).view({2, 41});
  f.tensors["u8"] = torch::arange(0, 200, torch::kInt64).to(torch::kUInt8);
  f.tensors["bool"] = torch::rand({33}) > 0.5;
  f.tensors["bf16"] = torch::randn({17, 3}).to(torch::kBFloat16);
  f.tensors["f16"] = torch::randn({5}).to(torch::kFloat16);
  f.tensors["scalar"] = torch::tensor(2.5);
  f.tensors["empty"] = torch::empty({0, 4});
  write_tensor_file(path, f);
  at_thread_counts([&] {
    const auto back = read_tensor_file(path);
    CHECK(back.attrs.at("format") == "test");
    REQUIRE(back.tensors.size() == f.tensors.size());
    for (const auto& [name, t] : f.tensors) {
      CAPTURE(name);
      CHECK((back.tensors.at(name).scalar_type() == t.scalar_type()));
      CHECK(torch::equal(back.tensors.at(name), t));
    }
  });
  std::remove(path.c_str());
}

TEST_CASE("load_weights checks everything before it changes a parameter") {
  const ModelSpec s = resolve_preset("debug");
  const std::string path = tmp_path("checks");
  CausalLM a(s);
  a->reset_parameters(1);
  save_weights(a, path);
  CausalLM deeper(resolve_preset("debug", {"n_layers=5"}));
  const auto before = deeper->tok_emb->weight.clone();
  CHECK_THROWS_WITH_AS(load_weights(deeper, path), (path + ": missing tensor 'attn.4.wq.weight'").c_str(),
                       sharelab::ConfigError);
  CHECK(torch::equal(deeper->tok_emb->weight, before));  // the file's tok_emb was not copied in
  CausalLM shallower(resolve_preset("debug", {"n_layers=2"}));
  CHECK_THROWS_WITH_AS(load_weights(shallower, path),
                       (path + ": unexpected tensor 'attn.2.wk.weight' (not a parameter of debug)").c_str(),
                       sharelab::ConfigError);
  std::remove(path.c_str());
}

namespace {

using sharelab::test::dataset_offset;
using sharelab::test::flip_byte;

}  // namespace

TEST_CASE("a flipped byte in a tensor file is named by every reader, in any piece, into any dtype") {
  const std::string path = tmp_path("crc");
  TensorFile f;
  f.attrs["format"] = "test";
  f.tensors["big"] = torch::randn({3 << 20});  // 12 MiB: two parallel pieces of TensorFileReader
  f.tensors["small"] = torch::randn({10, 10});
  f.tensors["scalar"] = torch::tensor(1.5);  // read through HDF5
  write_tensor_file(path, f);
  at_thread_counts([&] { CHECK(torch::equal(read_tensor_file(path).tensors.at("big"), f.tensors.at("big"))); });
  const std::string copy = tmp_path("crc_copy");
  std::remove(copy.c_str());
  {
    std::ifstream in(path, std::ios::binary);
    std::ofstream out(copy, std::ios::binary);
    out << in.rdbuf();
  }
  flip_byte(path, dataset_offset(path, "big") + (uint64_t(10) << 20));  // in the second piece
  const std::string want = path + ": dataset 'big': checksum mismatch (crc32c stored ";
  at_thread_counts([&] {
    CHECK_THROWS_WITH_AS(read_tensor_file(path), doctest::Contains(want.c_str()), sharelab::ConfigError);
    TensorFileReader r(path);
    auto bf16 = torch::empty({3 << 20}, torch::kBFloat16);                       // through the staging buffer
    auto strided = torch::empty({3 << 20, 2}).select(1, 0);                      // one pread, then copy_
    CHECK_THROWS_WITH_AS(r.read_into({{"big", bf16}}), doctest::Contains(want.c_str()), sharelab::ConfigError);
    CHECK_THROWS_WITH_AS(r.read_into({{"big", strided}}), doctest::Contains(want.c_str()), sharelab::ConfigError);
    auto small = torch::empty({10, 10});
    r.read_into({{"small", small}});  // the other datasets still read
    CHECK(torch::equal(small, f.tensors.at("small")));
  });
  flip_byte(copy, dataset_offset(copy, "scalar"));
  CHECK_THROWS_WITH_AS(read_tensor_file(copy), doctest::Contains((copy + ": dataset 'scalar': checksum mismatch").c_str()),
                       sharelab::ConfigError);
  std::remove(path.c_str());
  std::remove(copy.c_str());

  // A native weights file into a model (load_weights): refused, naming the file and the tensor.
  const ModelSpec s = resolve_preset("debug");
  CausalLM m(s);
  m->reset_parameters(1);
  save_weights(m, path);
  const std::string name = "ffn.0.w1.weight";
  flip_byte(path, dataset_offset(path, name) + 17);
  CausalLM back(s);
  CHECK_THROWS_WITH_AS(load_weights(back, path),
                       doctest::Contains((path + ": dataset '" + name + "': checksum mismatch").c_str()),
                       sharelab::ConfigError);
  std::remove(path.c_str());
}

// Not a test: timings of init (construct + cast) and load of a preset, for working on them.
//   SHARELAB_BENCH_PRESET=large-base SHARELAB_BENCH_DTYPE=bf16 test_init_load -tc='bench*' --no-skip
TEST_CASE("bench: init and load of SHARELAB_BENCH_PRESET" * doctest::skip()) {
  const char* preset = std::getenv("SHARELAB_BENCH_PRESET");
  const char* dt = std::getenv("SHARELAB_BENCH_DTYPE");
  const auto dtype = dt && std::string(dt) == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  const ModelSpec s = resolve_preset(preset ? preset : "debug");
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
  auto cpu_ms = [] {  // user + system time of the whole process so far
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
  };
  const double c0 = cpu_ms();
  auto t0 = Clock::now();
  CausalLM m(s);
  const double construct = ms(t0);
  m->to(dtype);
  const double init = ms(t0), init_cpu = cpu_ms() - c0;
  const std::string path = tmp_path("bench");
  save_weights(m, path);
  std::string loads;
  for (int i = 0; i < 3; ++i) {
    t0 = Clock::now();
    const double c1 = cpu_ms();
    load_weights(m, path);
    loads += " " + std::to_string(int(ms(t0))) + " (cpu " + std::to_string(int(cpu_ms() - c1)) + ")";
  }
  std::remove(path.c_str());
  MESSAGE(s.name << " " << (dtype == torch::kBFloat16 ? "bf16" : "fp32") << " threads " << at::get_num_threads()
                 << ": construct " << construct << " ms, init (+cast) " << init << " ms (cpu " << init_cpu
                 << "), load (3 times)" << loads
                 << " ms");
}
