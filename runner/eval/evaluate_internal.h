// Shared between evaluate.cpp (torch + text, no data dependency) and evaluate_run.cpp (which links
// the data part's Tokenizer and ShardLoader): the held-out rows hook.
#pragma once

#include <functional>

#include "runner/eval/evaluate.h"

namespace sharelab::eval {

struct HeldoutChunks {
  std::vector<std::vector<int32_t>> chunks;  // rows of the val split, each seq_len + 1 tokens
  std::string dir;
};
using HeldoutRows = std::function<HeldoutChunks(int64_t limit)>;

std::vector<store::EvalRow> evaluate_model_with(arch::CausalLM model, const TextEncoder& enc,
                                                const std::string& run_id, const EvalOptions& opt,
                                                const HeldoutRows& heldout);

}  // namespace sharelab::eval
