// Schedules and the table of named sharing schemes. Adding a scheme = one row in kSchemes.
#include "arch/sharing.h"

#include <stdexcept>

#include "common/named_rows.h"

namespace sharelab::arch {

int64_t schedule_unique(const Schedule& s, int64_t n_slots) {
  return s.kind == ScheduleKind::kNone ? n_slots : s.n_unique;
}

std::vector<int64_t> schedule_owners(const Schedule& s, int64_t n) {
  const int64_t m = schedule_unique(s, n);
  if (n <= 0) throw std::invalid_argument("schedule needs at least one slot");
  if (m <= 0 || m > n || n % m != 0)
    throw std::invalid_argument("unique count " + std::to_string(m) + " must divide the " +
                                std::to_string(n) + " layers");
  std::vector<int64_t> owner(n);
  for (int64_t i = 0; i < n; ++i) {
    switch (s.kind) {
      case ScheduleKind::kNone: owner[i] = i; break;
      case ScheduleKind::kSequence: owner[i] = i / (n / m); break;
      case ScheduleKind::kCycle: owner[i] = i % m; break;
      // Takase's cycle-rev: cycle through all but the last M slots, then walk back down.
      case ScheduleKind::kCycleRev: owner[i] = i < n - m ? i % m : m - 1 - (i - (n - m)); break;
      // MobileLLM reverse sharing: pass p = i / M runs forward when even, backward when odd.
      case ScheduleKind::kMirror: owner[i] = (i / m) % 2 == 0 ? i % m : m - 1 - i % m; break;
    }
  }
  return owner;
}

namespace {

using K = ScheduleKind;

// Blocks (attention + FFN + their norms) repeated k times: M = L / k unique blocks.
SharingSpec blocks(K kind, int64_t unique) { return {{kind, unique}, {kind, unique}, NormOwner::kFollowOwner}; }

int64_t per_k(int64_t n_layers, int64_t k) {
  if (k <= 0 || n_layers % k != 0)
    throw ConfigError("repeats " + std::to_string(k) + " must divide n_layers " + std::to_string(n_layers));
  return n_layers / k;
}

const std::vector<SchemeInfo> kSchemes = {
    {"none", SchemeArg::kNone, "dense: every layer owns its attention and FFN (baseline1/2, large-base)",
     [](int64_t, int64_t) { return SharingSpec{}; }},
    // MobiLlama (Thawakar et al. 2024, Fig. 2): one LlamaMLP injected into every decoder layer;
    // attention and both RMSNorms stay per layer (modeling_mobillama.py).
    {"shared-ffn", SchemeArg::kNone, "one FFN shared by all layers, per-layer attention and norms (MobiLlama)",
     [](int64_t, int64_t) { return SharingSpec{{K::kNone, 0}, {K::kCycle, 1}, NormOwner::kPerSlot}; }},
    // baseline3 of MobiLlama: full transformer-block sharing across all layers (ALBERT-style).
    {"shared-block", SchemeArg::kNone, "one transformer block (norms included) run at every layer (baseline3)",
     [](int64_t, int64_t) { return blocks(K::kCycle, 1); }},
    // MobileLLM-LS immediate block-wise repeat: it *is* Takase's sequence with M = L / k.
    {"immediate", SchemeArg::kRepeats, "each unique block runs k times in a row (MobileLLM-LS, k=2)",
     [](int64_t l, int64_t k) { return blocks(K::kSequence, per_k(l, k)); }},
    {"repeat-all-over", SchemeArg::kRepeats, "the stack of L/k blocks runs k times (MobileLLM ablation)",
     [](int64_t l, int64_t k) { return blocks(K::kCycle, per_k(l, k)); }},
    {"reverse", SchemeArg::kRepeats, "the stack of L/k blocks runs k times, alternating direction (MobileLLM ablation)",
     [](int64_t l, int64_t k) { return blocks(K::kMirror, per_k(l, k)); }},
    {"sequence", SchemeArg::kUniqueBlocks, "M unique blocks, each for L/M adjacent layers (Takase & Kiyono 2021)",
     [](int64_t, int64_t m) { return blocks(K::kSequence, m); }},
    {"cycle", SchemeArg::kUniqueBlocks, "M unique blocks cycled 0..M-1,0..M-1,... (Takase & Kiyono 2021)",
     [](int64_t, int64_t m) { return blocks(K::kCycle, m); }},
    {"cycle-rev", SchemeArg::kUniqueBlocks, "cycle, with the last M layers in reverse order (Takase & Kiyono 2021)",
     [](int64_t, int64_t m) { return blocks(K::kCycleRev, m); }},
};

}  // namespace

const std::vector<SchemeInfo>& schemes() { return kSchemes; }

std::string scheme_names() { return names_of(kSchemes); }

const SchemeInfo& scheme_by_name(const std::string& name) { return find_named(kSchemes, name, "scheme"); }

}  // namespace sharelab::arch
