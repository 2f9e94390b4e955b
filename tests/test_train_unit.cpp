// Training recipe pieces: the warm-up + cosine LR, the [train] field table and its errors, AdamW
// against torch::optim::AdamW, and the weight-decay groups (norms excluded).
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cmath>

#include "common/errors.h"
#include "arch/model.h"
#include "arch/registry.h"
#include "runner/train/adamw.h"
#include "runner/train/lr_schedule.h"
#include "runner/train/validate_train.h"

using namespace sharelab;
using namespace sharelab::train;

TEST_CASE("LR: linear warm-up, cosine to min_lr at the last step") {
  const LrSchedule s{1e-3, 1e-4, 10, 111};  // cosine spans steps 10..110 (100 intervals)
  CHECK(s.at(0) == doctest::Approx(1e-4));
  CHECK(s.at(4) == doctest::Approx(5e-4));
  CHECK(s.at(9) == doctest::Approx(1e-3));
  CHECK(s.at(10) == doctest::Approx(1e-3));
  CHECK(s.at(60) == doctest::Approx(1e-4 + 0.9e-3 * 0.5));  // half way: cos(pi/2) = 0
  CHECK(s.at(35) == doctest::Approx(1e-4 + 0.9e-3 * 0.5 * (1 + std::cos(M_PI * 0.25))));
  CHECK(s.at(110) == doctest::Approx(1e-4));
  for (int64_t i = 11; i <= 110; ++i) CHECK(s.at(i) < s.at(i - 1));
  SUBCASE("no warm-up: the first step runs at the peak") {
    const LrSchedule n{3e-4, 3e-5, 0, 5};
    CHECK(n.at(0) == doctest::Approx(3e-4));
    CHECK(n.at(4) == doctest::Approx(3e-5));
  }
  SUBCASE("budget inside warm-up: never above the peak") {
    const LrSchedule w{1e-3, 0, 100, 10};
    CHECK(w.at(9) == doctest::Approx(1e-4));
  }
}

TEST_CASE("train validation: accumulation must divide, budget >= one step") {
  config::TrainConfig t;
  t.seq_len = 128;
  t.micro_batch = 8;
  t.global_batch_tokens = 1000;
  t.tokens = 1e6;
  CHECK_THROWS_WITH_AS(validate_train(t),
                       "train.global_batch_tokens 1000 is not a positive multiple of train.micro_batch x train.seq_len = "
                       "8 x 128 = 1024",
                       ConfigError);
  t.global_batch_tokens = 4096;
  CHECK_NOTHROW(validate_train(t));
  CHECK(t.accumulation() == 4);
  CHECK(t.steps() == 244);
  t.tokens = 4000;
  CHECK_THROWS_WITH_AS(validate_train(t), doctest::Contains("train.tokens 4000 is less than one step"), ConfigError);
  t.tokens = 1e6;
  t.precision = "fp16";
  CHECK_THROWS_WITH_AS(validate_train(t), "train.precision 'fp16' must be bf16 or fp32", ConfigError);
}

// Relative max difference, for results that differ only by float rounding (FMA or not).
static double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

TEST_CASE("AdamW equals torch::optim::AdamW to float rounding, clipping folded in (decay on, off for 1-D)") {
  auto gen = at::detail::createCPUGenerator(1);
  auto w0 = torch::randn({5, 7}, gen, torch::kFloat32);
  auto b0 = torch::randn({7}, gen, torch::kFloat32);
  auto mine_w = w0.clone().requires_grad_(true), mine_b = b0.clone().requires_grad_(true);
  auto ref_w = w0.clone().requires_grad_(true), ref_b = b0.clone().requires_grad_(true);
  AdamW mine({{"w", mine_w}, {"b", mine_b}}, {0.9, 0.95, 1e-8, 0.1});
  CHECK(mine.slots()[0].decay);
  CHECK(!mine.slots()[1].decay);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{ref_w},
                      std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(0).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1)));
  groups.emplace_back(std::vector<torch::Tensor>{ref_b},
                      std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(0).betas({0.9, 0.95}).eps(1e-8).weight_decay(0)));
  torch::optim::AdamW ref(groups, torch::optim::AdamWOptions(0));
  auto x = torch::randn({3, 5}, gen, torch::kFloat32);
  int clipped = 0;
  for (int step = 0; step < 6; ++step) {
    const double lr = 1e-2 * (step + 1);
    const double max_norm = step % 2 ? 1.0 : 1e9;  // odd steps clip, even steps do not
    for (auto& g : ref.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    mine.zero_grad();
    ref.zero_grad();
    (torch::matmul(x, mine_w) + mine_b).pow(2).sum().backward();
    (torch::matmul(x, ref_w) + ref_b).pow(2).sum().backward();
    const GradNorm gn = grad_norm({mine_w, mine_b}, max_norm);
    const double ref_norm = torch::nn::utils::clip_grad_norm_(std::vector<torch::Tensor>{ref_w, ref_b}, max_norm);
    CHECK(gn.norm == doctest::Approx(ref_norm).epsilon(1e-6));
    clipped += gn.clip_scale < 1;
    mine.step(lr, gn.clip_scale);
    ref.step();
    CHECK(rel_diff(mine_w, ref_w) < 1e-6);
    CHECK(rel_diff(mine_b, ref_b) < 1e-6);
  }
  CHECK(clipped == 3);
  CHECK(mine.slots()[0].step == 6);
  CHECK(!torch::equal(mine_w, w0));
}

TEST_CASE("weight-decay groups: every matrix and the embedding decay, no norm weight does") {
  for (const char* scheme : {"none", "shared-ffn"}) {
    SUBCASE(scheme) {
      arch::CausalLM m(arch::resolve_preset("debug", {std::string("scheme=") + scheme}));
      std::vector<std::pair<std::string, torch::Tensor>> named;
      for (const auto& p : m->named_parameters()) named.emplace_back(p.key(), p.value());
      AdamW opt(named, {});
      int64_t norms = 0, decayed = 0;
      for (const auto& s : opt.slots()) {
        const bool is_norm = s.name.find("norm") != std::string::npos;
        CHECK_MESSAGE(s.decay == !is_norm, s.name);
        norms += is_norm;
        decayed += s.decay;
        if (s.name == "tok_emb.weight" || s.name == "attn.0.wq.weight" || s.name == "ffn.0.w2.weight") CHECK(s.decay);
      }
      const auto l = m->layout();
      CHECK(norms == l.n_attn_norm + l.n_ffn_norm + 1);  // + the final norm
      CHECK(decayed == int64_t(opt.slots().size()) - norms);
    }
  }
}
