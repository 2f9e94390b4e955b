// Scales: the width rule, absolute settings, warm-up scaling, and the invariant that no scale
// changes depth or the sharing pattern (checked for every preset x every shipped scale).
#include <doctest/doctest.h>

#include <cmath>

#include "arch/accounting.h"
#include "arch/registry.h"
#include "sweep_test_util.h"

using namespace sharelab::sweep;
using namespace sweep_test;

namespace {

RunConfig with_preset(const std::string& name) {
  RunConfig rc;
  rc.model = sharelab::arch::preset_by_name(name).make();
  rc.preset = name;
  return rc;
}

Scale shipped(const std::string& name) {
  return load_scale(name, (fs::path(SHARELAB_SOURCE_DIR) / "configs" / "x.toml").string(), "test");
}

}  // namespace

TEST_CASE("the cpu scale's width rule on the Table 1 presets") {
  const Scale cpu = shipped("cpu");
  CHECK(cpu.width == 0.125);
  CHECK(cpu.head_dim == 32);

  RunConfig lb = with_preset("large-base");  // 22 x 2048, 32 heads (MHA), ffn 5632
  apply_scale(lb, cpu);
  CHECK(lb.model.d_model == 256);
  CHECK(lb.model.n_heads == 8);      // head_dim 64 -> 32: heads shrink 32 -> 8
  CHECK(lb.model.n_kv_heads == 8);   // MHA stays MHA
  CHECK(lb.model.ffn_dim == 704);
  CHECK(lb.model.vocab_size == 8000);
  CHECK(lb.train.seq_len == 256);
  CHECK(lb.model.n_layers == 22);
  // Warm-up keeps its share of the steps (at least one step): 2000 of 73,242 paper steps -> 1 of 20.
  RunConfig paper = with_preset("large-base");
  paper.train.tokens = 120e9;
  RunConfig scaled = paper;
  apply_scale(scaled, cpu);
  const double share = double(paper.train.warmup_steps) / double(paper.train.steps());
  CHECK(scaled.train.steps() == 96);
  CHECK(scaled.train.warmup_steps == std::max<int64_t>(1, std::llround(share * double(scaled.train.steps()))));

  RunConfig b1 = with_preset("baseline1");  // half as wide: stays half as wide
  apply_scale(b1, cpu);
  CHECK(b1.model.d_model == 128);
  CHECK(b1.model.n_heads == 4);

  RunConfig m = with_preset("mobilellm-125m");  // 576 wide, 9 heads / 3 kv heads
  apply_scale(m, cpu);
  CHECK(m.model.d_model == 64);
  CHECK(m.model.n_heads == 2);
  CHECK(m.model.n_kv_heads == 1);
  CHECK(m.model.head_dim() == 32);
  m.model.validate();
}

TEST_CASE("no scale changes depth or the sharing pattern, for any preset") {
  for (const std::string name : {"cpu", "smoke"}) {
    const Scale s = shipped(name);
    for (const auto& preset : sharelab::arch::presets()) {
      RunConfig rc = with_preset(preset.name);
      const auto before = rc.model;
      apply_scale(rc, s);
      INFO(name << " x " << preset.name);
      CHECK(rc.model.n_layers == before.n_layers);
      CHECK(rc.model.scheme == before.scheme);
      CHECK(rc.model.repeats == before.repeats);
      CHECK(rc.model.unique_blocks == before.unique_blocks);
      CHECK(rc.model.tie_embeddings == before.tie_embeddings);
      CHECK(rc.model.d_model <= std::max<int64_t>(before.d_model, 16));
      if (preset.name != std::string("mobillama-0.8b-paper")) {  // invalid by design (2532 / 32 heads)
        rc.model.validate();
        // The index maps are the same function of depth: same owners slot by slot.
        CHECK(rc.model.layout().attn_of == before.layout().attn_of);
        CHECK(rc.model.layout().ffn_of == before.layout().ffn_of);
      }
    }
  }
}

TEST_CASE("scales may not set depth, width by hand or the scheme") {
  auto d = scratch("scales");
  for (const std::string key : {"n_layers = 8", "scheme = \"shared-ffn\"", "d_model = 64", "tie_embeddings = true",
                                "repeats = 2"}) {
    write(d / "scales" / "p.toml", "[model]\n" + key + "\n");
    CHECK_THROWS_WITH_AS(load_scale("p", (d / "s.toml").string(), "x"), doctest::Contains("p.toml:2:"),
                         sharelab::ConfigError);
    CHECK_THROWS_WITH_AS(load_scale("p", (d / "s.toml").string(), "x"),
                         doctest::Contains(": a scale never changes depth"), sharelab::ConfigError);
  }
  write(d / "scales" / "w.toml", "[scale]\nwidth = 2.0\n");
  CHECK_THROWS_WITH_AS(load_scale("w", (d / "s.toml").string(), "x"),
                       doctest::Contains("w.toml:2:9: scale.width: expected a number in (0, 1], got float 2"),
                       sharelab::ConfigError);
  write(d / "scales" / "h.toml", "[scale]\nhead_dim = 3\n");
  CHECK_THROWS_WITH_AS(load_scale("h", (d / "s.toml").string(), "x"),
                       doctest::Contains("h.toml:2:12: scale.head_dim: expected an even integer >= 2, got integer 3"),
                       sharelab::ConfigError);
  CHECK_THROWS_WITH_AS(load_scale("missing", (d / "s.toml").string(), "here"),
                       doctest::Contains("here: scale: 'missing' not found"), sharelab::ConfigError);
  CHECK(load_scale("paper", (d / "s.toml").string(), "x").width == 1.0);
}
