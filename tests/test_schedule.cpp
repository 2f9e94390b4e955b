// Every scheme's index map has its defining property; schedules match the papers' sequences.
#include <doctest/doctest.h>

#include <set>

#include "common/errors.h"
#include "arch/model_spec.h"
#include "arch/sharing.h"

using namespace sharelab::arch;
using V = std::vector<int64_t>;

TEST_CASE("schedules reproduce Takase & Kiyono's sequences") {
  CHECK(schedule_owners({ScheduleKind::kSequence, 3}, 6) == V{0, 0, 1, 1, 2, 2});
  CHECK(schedule_owners({ScheduleKind::kCycle, 3}, 6) == V{0, 1, 2, 0, 1, 2});
  CHECK(schedule_owners({ScheduleKind::kCycleRev, 3}, 6) == V{0, 1, 2, 2, 1, 0});
  CHECK(schedule_owners({ScheduleKind::kCycleRev, 3}, 9) == V{0, 1, 2, 0, 1, 2, 2, 1, 0});
  CHECK(schedule_owners({ScheduleKind::kCycleRev, 2}, 4) == V{0, 1, 1, 0});
  CHECK(schedule_owners({ScheduleKind::kMirror, 3}, 9) == V{0, 1, 2, 2, 1, 0, 0, 1, 2});
  CHECK(schedule_owners({ScheduleKind::kNone, 0}, 4) == V{0, 1, 2, 3});
  CHECK_THROWS(schedule_owners({ScheduleKind::kCycle, 4}, 6));
  CHECK_THROWS(schedule_owners({ScheduleKind::kCycle, 0}, 6));
}

static ModelSpec spec_with(const std::string& scheme, int64_t layers, int64_t repeats = 0, int64_t unique = 0) {
  ModelSpec s;
  s.name = "t";
  s.n_layers = layers;
  s.d_model = 64;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.ffn_dim = 128;
  s.scheme = scheme;
  s.repeats = repeats;
  s.unique_blocks = unique;
  s.validate();
  return s;
}

TEST_CASE("none: every layer owns its modules") {
  auto l = spec_with("none", 5).layout();
  CHECK(l.attn_of == V{0, 1, 2, 3, 4});
  CHECK(l.ffn_of == V{0, 1, 2, 3, 4});
  CHECK(l.n_attn_norm == 5);
}

TEST_CASE("shared-ffn: one FFN, per-layer attention and per-layer norms (MobiLlama)") {
  auto l = spec_with("shared-ffn", 22).layout();
  CHECK(l.n_ffn == 1);
  CHECK(l.n_attn == 22);
  CHECK(std::set<int64_t>(l.ffn_of.begin(), l.ffn_of.end()) == std::set<int64_t>{0});
  CHECK(l.n_attn_norm == 22);
  CHECK(l.n_ffn_norm == 22);
  for (int64_t i = 0; i < 22; ++i) CHECK(l.attn_of[i] == i);
}

TEST_CASE("shared-block: one block, norms included, at every layer") {
  auto l = spec_with("shared-block", 22).layout();
  CHECK(l.n_attn == 1);
  CHECK(l.n_ffn == 1);
  CHECK(l.n_attn_norm == 1);
  CHECK(l.n_ffn_norm == 1);
}

TEST_CASE("immediate k=2 on 30 layers: 15 unique blocks, each used by two adjacent layers") {
  auto l = spec_with("immediate", 30, 2).layout();
  CHECK(l.n_attn == 15);
  CHECK(l.n_ffn == 15);
  for (int64_t b = 0; b < 15; ++b) {
    CHECK(l.attn_of[2 * b] == b);
    CHECK(l.attn_of[2 * b + 1] == b);
    CHECK(l.ffn_of[2 * b + 1] == b);
  }
  CHECK(l.attn_norm_of == l.attn_of);  // the whole block repeats, norms included (MobileLLM-LS)
}

TEST_CASE("repeat-all-over k=2: the stack of L/2 blocks runs twice") {
  auto l = spec_with("repeat-all-over", 6, 2).layout();
  CHECK(l.attn_of == V{0, 1, 2, 0, 1, 2});
}

TEST_CASE("reverse k=2: forward then backward, equal to Takase's cycle-rev") {
  auto l = spec_with("reverse", 6, 2).layout();
  CHECK(l.attn_of == V{0, 1, 2, 2, 1, 0});
  CHECK(spec_with("cycle-rev", 6, 0, 3).layout().attn_of == l.attn_of);
  CHECK(spec_with("reverse", 9, 3).layout().attn_of == V{0, 1, 2, 2, 1, 0, 0, 1, 2});
}

TEST_CASE("sequence / cycle / cycle-rev with M unique blocks") {
  CHECK(spec_with("sequence", 6, 0, 3).layout().ffn_of == V{0, 0, 1, 1, 2, 2});
  CHECK(spec_with("cycle", 6, 0, 3).layout().ffn_of == V{0, 1, 2, 0, 1, 2});
  CHECK(spec_with("cycle-rev", 9, 0, 3).layout().ffn_of == V{0, 1, 2, 0, 1, 2, 2, 1, 0});
}

TEST_CASE("every scheme: owners cover 0..M-1 and are within range") {
  for (const auto& info : schemes()) {
    SUBCASE(info.name) {
      int64_t rep = info.arg == SchemeArg::kRepeats ? 2 : 0, uniq = info.arg == SchemeArg::kUniqueBlocks ? 3 : 0;
      auto l = spec_with(info.name, 12, rep, uniq).layout();
      CHECK(std::set<int64_t>(l.attn_of.begin(), l.attn_of.end()).size() == size_t(l.n_attn));
      CHECK(std::set<int64_t>(l.ffn_of.begin(), l.ffn_of.end()).size() == size_t(l.n_ffn));
    }
  }
}

TEST_CASE("bad scheme arguments are named") {
  CHECK_THROWS_WITH_AS(spec_with("immediate", 30, 4), "t: repeats 4 must divide n_layers 30", sharelab::ConfigError);
  CHECK_THROWS_WITH_AS(spec_with("cycle", 12, 0, 5), "t: unique_blocks 5 must divide n_layers 12", sharelab::ConfigError);
  CHECK_THROWS_WITH_AS(spec_with("cycle", 12), "t: scheme 'cycle' needs unique_blocks >= 1 (got 0)", sharelab::ConfigError);
  CHECK_THROWS_WITH_AS(spec_with("none", 12, 2), "t: repeats 2 is set but scheme 'none' takes no repeat factor",
                       sharelab::ConfigError);
  CHECK_THROWS_WITH_AS(spec_with("mobillama", 12),
                       "unknown scheme 'mobillama'; known: none, shared-ffn, shared-block, immediate, repeat-all-over, "
                       "reverse, sequence, cycle, cycle-rev",
                       sharelab::ConfigError);
}
