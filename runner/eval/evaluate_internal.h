// Between evaluate.cpp (a loaded model on named tasks) and evaluate_run.cpp (a run, checkpoint or HF
// model with its tokenizer, which alone knows where the run's held-out rows are): the rows hook.
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
