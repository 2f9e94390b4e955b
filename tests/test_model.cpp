// The LibTorch model: shared modules registered once, gradients through shared modules, tying,
// equivalence of a shared model and a dense model with copied weights, HF export round trip.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include "arch/accounting.h"
#include "arch/registry.h"
#include "arch/weights.h"
#include "kernels/fused_ops.h"
#include "kernels/torch_compat.h"

using namespace sharelab::arch;

namespace {

ModelSpec small(const std::string& scheme, std::vector<std::string> extra = {}) {
  extra.push_back("scheme=" + scheme);
  return resolve_preset("debug", extra);
}

// The debug preset under a registry scheme, with the argument the scheme needs.
ModelSpec small(const SchemeInfo& info) {
  if (info.arg == SchemeArg::kRepeats) return small(info.name, {"repeats=2"});
  if (info.arg == SchemeArg::kUniqueBlocks) return small(info.name, {"unique_blocks=2"});
  return small(info.name);
}

torch::Tensor tokens(int64_t B, int64_t T, int64_t vocab, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randint(vocab, {B, T}, gen, torch::kInt64);
}

// Relative difference ||a - b|| / ||b||.
double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(1e-30, b.norm().item<double>());
}

}  // namespace

TEST_CASE("shared modules are registered once: parameters() equals the analytic unique count") {
  for (const auto& info : schemes()) {
    SUBCASE(info.name) {
      CausalLM m(small(info));
      CHECK(count_parameters(*m) == count_distinct_parameters(*m));
      CHECK(count_parameters(*m) == unique_params(m->spec()).total());
    }
  }
}

TEST_CASE("tied embeddings: no lm_head, the head is the embedding matrix") {
  CausalLM m(small("none", {"tie_embeddings=true"}));
  CHECK(!m->lm_head);
  for (const auto& p : m->named_parameters()) CHECK(p.key().find("lm_head") == std::string::npos);
  auto x = tokens(1, 5, 512, 3);
  auto logits = m->forward(x);
  // Perturbing the embedding row of token 7 changes the logit of token 7 at every position.
  {
    torch::NoGradGuard g;
    m->tok_emb->weight[7].add_(1.0);
  }
  auto after = m->forward(x);
  CHECK(!torch::allclose(logits.select(-1, 7), after.select(-1, 7)));
}

TEST_CASE("shared-ffn gradient equals the sum of per-layer gradients of a dense copy") {
  torch::manual_seed(0);
  CausalLM shared(small("shared-ffn"));
  CausalLM dense(small("none"));
  shared->reset_parameters(11);
  // Dense copy: every layer gets the shared FFN's weights; attention and norms are per-layer in both.
  load_hf_state(dense, hf_state(shared), "test");
  auto x = tokens(2, 16, 512, 5), y = tokens(2, 16, 512, 6);
  auto ls = shared->loss(x, y), ld = dense->loss(x, y);
  CHECK(ls.item<double>() == doctest::Approx(ld.item<double>()).epsilon(1e-6));
  ls.backward();
  ld.backward();
  auto sum_w = [&](const char* w) {
    torch::Tensor acc;
    for (size_t i = 0; i < dense->ffn->size(); ++i) {
      auto f = dense->ffn->ptr<SwiGLUImpl>(i);
      auto g = std::string(w) == "w1" ? f->w1->weight.grad() : std::string(w) == "w2" ? f->w2->weight.grad() : f->w3->weight.grad();
      acc = acc.defined() ? acc + g : g.clone();
    }
    return acc;
  };
  auto sf = shared->ffn->ptr<SwiGLUImpl>(0);
  CHECK(rel(sf->w1->weight.grad(), sum_w("w1")) < 1e-5);
  CHECK(rel(sf->w2->weight.grad(), sum_w("w2")) < 1e-5);
  CHECK(rel(sf->w3->weight.grad(), sum_w("w3")) < 1e-5);
  // Attention is not shared: its gradients are the dense model's, layer by layer.
  for (size_t i = 0; i < shared->attn->size(); ++i)
    CHECK(rel(shared->attn->ptr<AttentionImpl>(i)->wq->weight.grad(), dense->attn->ptr<AttentionImpl>(i)->wq->weight.grad()) <
          1e-5);
}

TEST_CASE("every scheme computes the same function as a dense model with its weights materialised") {
  // Over the registry, so a new scheme is covered the day it is added.
  for (const auto& info : schemes()) {
    SUBCASE(info.name) {
      CausalLM s(small(info));
      s->reset_parameters(21);
      CausalLM d(small("none"));
      load_hf_state(d, hf_state(s), "test");
      auto x = tokens(2, 12, 512, 9);
      torch::NoGradGuard g;
      CHECK(rel(s->forward(x), d->forward(x)) < 1e-6);
    }
  }
}

TEST_CASE("KV-cache decoding equals the full forward at every position, for every scheme") {
  for (const auto& info : schemes()) {
    SUBCASE(info.name) {
      CausalLM m(small(info));
      m->reset_parameters(5);
      auto x = tokens(2, 13, 512, 3);
      torch::NoGradGuard g;
      const auto full = m->forward(x);  // (2, 13, V)
      KVCache c = m->new_cache(16, torch::kCPU);
      // A 5-token prefill, one 3-token chunk, then one token at a time.
      std::vector<torch::Tensor> parts{m->forward_cached(x.narrow(1, 0, 5), c), m->forward_cached(x.narrow(1, 5, 3), c)};
      for (int64_t t = 8; t < 13; ++t) parts.push_back(m->forward_cached(x.narrow(1, t, 1), c));
      const auto inc = torch::cat(parts, 1);
      CHECK(c.length == 13);
      CHECK(c.k.size() == size_t(m->spec().n_layers));  // one entry per executed layer
      CHECK((inc - full).abs().max().item<double>() < 1e-5);
      CHECK_THROWS(m->forward_cached(x.narrow(1, 0, 4), c));  // past the capacity
      // last_only (generation): a 9-token prefill's last row, then the next token's.
      KVCache g2 = m->new_cache(16, torch::kCPU);
      const auto last = m->forward_cached(x.narrow(1, 0, 9), g2, CausalLMImpl::Logits::kLast);
      CHECK(last.sizes() == torch::IntArrayRef({2, 1, full.size(2)}));
      CHECK((last - full.narrow(1, 8, 1)).abs().max().item<double>() < 1e-5);
      const auto next = m->forward_cached(x.narrow(1, 9, 1), g2, CausalLMImpl::Logits::kLast);
      CHECK((next - full.narrow(1, 9, 1)).abs().max().item<double>() < 1e-5);
    }
  }
}

TEST_CASE("the batch-1 decode kernel equals the full forward at every position, for every scheme") {
  for (const auto& info : schemes()) {
    SUBCASE(info.name) {
      CausalLM m(small(info));
      m->reset_parameters(7);
      const auto x = tokens(1, 12, 512, 4);
      torch::NoGradGuard g;
      const auto full = m->forward(x);  // (1, 12, V)
      for (int threads : {1, 3}) {
        at::set_num_threads(threads);
        // From an empty cache (the kernel allocates it) one token at a time; then after a LibTorch
        // prefill of 4 (the kernel continues that cache), kLast and kNone.
        KVCache c = m->new_cache(16, torch::kCPU);
        REQUIRE(m->decode_step_applies(x.narrow(1, 0, 1), c));
        std::vector<torch::Tensor> parts;
        for (int64_t t = 0; t < 12; ++t) parts.push_back(m->forward_cached(x.narrow(1, t, 1), c));
        CHECK((torch::cat(parts, 1) - full).abs().max().item<double>() < 1e-5);
        KVCache c2 = m->new_cache(16, torch::kCPU);
        m->forward_cached(x.narrow(1, 0, 4), c2, CausalLMImpl::Logits::kNone);
        CHECK(!m->forward_cached(x.narrow(1, 4, 1), c2, CausalLMImpl::Logits::kNone).defined());
        const auto next = m->forward_cached(x.narrow(1, 5, 1), c2, CausalLMImpl::Logits::kLast);
        CHECK((next - full.narrow(1, 5, 1)).abs().max().item<double>() < 1e-5);
      }
      at::set_num_threads(1);
    }
  }
}

// Each output row is one thread's fixed-order sum, so the thread count cannot change a bit.
TEST_CASE("the decode kernel gives the same bits at 1 and 3 threads, and runs the slot hooks") {
  CausalLM m(small("immediate", {"repeats=2"}));
  const auto x = tokens(1, 6, 512, 8);
  torch::NoGradGuard g;
  auto decode = [&](int threads) {
    at::set_num_threads(threads);
    KVCache c = m->new_cache(8, torch::kCPU);
    std::vector<torch::Tensor> out;
    for (int64_t t = 0; t < 6; ++t) out.push_back(m->forward_cached(x.narrow(1, t, 1), c));
    at::set_num_threads(1);
    return torch::cat(out, 1);
  };
  CHECK(torch::equal(decode(1), decode(3)));
  int64_t begun = 0, ended = 0;
  m->set_slot_hook([&](int64_t, bool begin) { ++(begin ? begun : ended); });
  decode(2);
  m->set_slot_hook(nullptr);
  CHECK(begun == 6 * m->spec().n_layers);
  CHECK(ended == begun);
}

TEST_CASE("bf16 weights: the decode kernel and the LibTorch path both stay close to fp32") {
  CausalLM m(small("shared-ffn"));
  m->reset_parameters(3);
  const auto x = tokens(1, 10, 512, 2);
  torch::NoGradGuard g;
  m->to(torch::kBFloat16);
  CausalLM ref(small("shared-ffn"));
  for (size_t i = 0; i < ref->parameters().size(); ++i)  // fp32 copies of the rounded weights
    ref->parameters()[i].copy_(m->parameters()[i].to(torch::kFloat32));
  const auto want = ref->forward(x);
  auto decode = [&](bool kernel) {
    sharelab::kernels::set_fused_ops_enabled(kernel);
    KVCache c = m->new_cache(16, torch::kCPU);
    CHECK(m->decode_step_applies(x.narrow(1, 0, 1), c) == kernel);
    std::vector<torch::Tensor> out;
    for (int64_t t = 0; t < 10; ++t) out.push_back(m->forward_cached(x.narrow(1, t, 1), c));
    sharelab::kernels::set_fused_ops_enabled(true);
    CHECK((c.k[0].scalar_type() == torch::kBFloat16));
    return torch::cat(out, 1);
  };
  const auto fast = decode(true), slow = decode(false);
  CHECK((fast.scalar_type() == torch::kBFloat16));
  CHECK(rel(fast.to(torch::kFloat32), want) < 2e-2);
  CHECK(rel(slow.to(torch::kFloat32), want) < 5e-2);
}

TEST_CASE("a forward of many rows (fused products) equals row-by-row forwards (separate, few-row products)") {
  // 8 x 128 = 1024 rows take the fused QKV and gate/up products (model.cpp: linear_concat) and the
  // x W^T layout; one row of 128 takes separate products in the W x^T layout (cpu_gemm.cpp).
  CausalLM m(small("shared-ffn"));
  auto x = tokens(8, 128, 512, 4);
  torch::NoGradGuard g;
  const auto all = m->forward(x);
  for (int64_t b = 0; b < 8; ++b) {
    CAPTURE(b);
    CHECK(rel(m->forward(x.narrow(0, b, 1)), all.narrow(0, b, 1)) < 1e-5);
  }
}

TEST_CASE("loading an HF state into a shared model rejects copies that differ") {
  CausalLM dense(small("none"));
  CausalLM shared(small("shared-ffn"));
  CHECK_THROWS_WITH(load_hf_state(shared, hf_state(dense), "dense.h5"),
                    doctest::Contains("dense.h5: 'model.layers.1.mlp.gate_proj.weight' differs from "
                                      "'model.layers.0.mlp.gate_proj.weight' but scheme 'shared-ffn' shares them"));
}

TEST_CASE("initialisation is deterministic per seed and draws each owner once") {
  CausalLM a(small("shared-ffn")), b(small("shared-ffn"));
  a->reset_parameters(5);
  b->reset_parameters(5);
  for (const auto& p : a->named_parameters()) CHECK(torch::equal(p.value(), b->named_parameters()[p.key()]));
  b->reset_parameters(6);
  CHECK(!torch::equal(a->tok_emb->weight, b->tok_emb->weight));
  // Output projections use the depth-scaled std 0.02 / sqrt(2 x 4).
  CausalLM big(resolve_preset("debug", {"d_model=256", "ffn_dim=1024"}));
  const double sd = big->ffn->ptr<SwiGLUImpl>(0)->w2->weight.std().item<double>();
  CHECK(sd == doctest::Approx(0.02 / std::sqrt(8.0)).epsilon(0.03));
}

TEST_CASE("bf16 autocast forward runs and stays close to fp32") {
  CausalLM m(small("shared-ffn"));
  auto x = tokens(2, 16, 512, 1);
  torch::NoGradGuard g;
  auto ref = m->forward(x);
  torch::Tensor low;
  {
    sharelab::kernels::compat::AutocastGuard autocast(true, c10::DeviceType::CPU);
    low = m->forward(x);
  }
  CHECK((low.scalar_type() == torch::kBFloat16));
  CHECK(rel(low.to(torch::kFloat32), ref) < 5e-2);
}

TEST_CASE("slot hooks see every executed layer in order") {
  CausalLM m(resolve_preset("mobilellm-ls-125m", {"d_model=36", "n_heads=9", "n_kv_heads=3", "ffn_dim=32",
                                                  "vocab_size=64"}));
  std::vector<int64_t> begun;
  m->set_slot_hook([&](int64_t slot, bool begin) {
    if (begin) begun.push_back(slot);
  });
  torch::NoGradGuard g;
  m->forward(tokens(1, 4, 64, 0));
  REQUIRE(begun.size() == 60);
  for (int64_t i = 0; i < 60; ++i) CHECK(begun[i] == i);
}
