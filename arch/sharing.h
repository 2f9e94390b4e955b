// Sharing schemes as data: a scheme maps L virtual layers (slots) onto pools of unique
// attention and FFN modules. Nothing here knows about tensors; the model, the accounting and
// the HF export all read the same index maps. See DESIGN.md "The seam: sharing as an index map".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sharelab::arch {

// How slot i picks one of M unique owners (N = slots, M | N). Examples for N=6, M=3:
//   kNone      0 1 2 3 4 5   (M = N, every slot owns its module)
//   kSequence  0 0 1 1 2 2   (Takase & Kiyono 2021 "sequence"; MobileLLM's immediate block-wise repeat)
//   kCycle     0 1 2 0 1 2   (Takase "cycle"; MobileLLM's repeat-all-over)
//   kCycleRev  0 1 2 2 1 0   (Takase "cycle-rev": cycle, then the last M slots mirrored; N=9: 0 1 2 0 1 2 2 1 0)
//   kMirror    0 1 2 2 1 0   (MobileLLM's reverse sharing: passes alternate direction; N=9: 0 1 2 2 1 0 0 1 2)
enum class ScheduleKind { kNone, kSequence, kCycle, kCycleRev, kMirror };

struct Schedule {
  ScheduleKind kind = ScheduleKind::kNone;
  int64_t n_unique = 0;  // M; ignored for kNone (M = N)
};

// Norms either belong to each slot (MobiLlama keeps per-layer RMSNorms around a shared FFN) or
// travel with the owner of the sub-layer they precede (Takase's CopyParams, ALBERT, MobileLLM-LS).
enum class NormOwner { kPerSlot, kFollowOwner };

struct SharingSpec {
  Schedule attn;
  Schedule ffn;
  NormOwner norms = NormOwner::kFollowOwner;
};

// owner[i] for i in [0, n_slots). Throws std::invalid_argument when M does not divide N.
std::vector<int64_t> schedule_owners(const Schedule& s, int64_t n_slots);
int64_t schedule_unique(const Schedule& s, int64_t n_slots);

// --- named schemes --------------------------------------------------------------------------
// A scheme is a name plus a function of (n_layers, arg) -> SharingSpec. `arg` is the scheme's
// one integer option: the repeat factor k for immediate/repeat-all-over/reverse, the unique
// block count M for cycle/cycle-rev/sequence, unused otherwise.
enum class SchemeArg { kNone, kRepeats, kUniqueBlocks };

struct SchemeInfo {
  const char* name;
  SchemeArg arg;
  const char* summary;  // one line: what is shared and where it comes from
  SharingSpec (*make)(int64_t n_layers, int64_t arg);
};

const std::vector<SchemeInfo>& schemes();
const SchemeInfo& scheme_by_name(const std::string& name);  // throws ConfigError listing known names
std::string scheme_names();                                  // "none, shared-ffn, ..."

}  // namespace sharelab::arch
