// Few-shot context construction (lm-eval v0.3 base.py fewshot_context) and the requests of one
// document. Shots are chosen deterministically per (seed, task, document index), so a --limit run
// sees the same shots as a full one. This cannot reproduce CPython's random.Random(42) stream
// bit-for-bit; the chosen indices are stored with the results instead (details_json).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runner/eval/task.h"

namespace sharelab::eval {

struct TextRequest {
  std::string context, continuation;
};

constexpr uint64_t kFewshotSeed = 1234;  // lm-eval v0.4's fewshot_random_seed

// Indices of k shots for docs[doc_index]: into task.fewshot_pool when it is non-empty (MMLU: the
// first k of the same subject), else into task.docs, never the document itself. ConfigError when
// the pool is too small or the task is 0-shot only.
std::vector<int64_t> choose_shots(const TaskData& task, int64_t doc_index, int64_t k, uint64_t seed = kFewshotSeed);

// description + "\n\n".join(shot_text) + "\n\n" (when k > 0); shots index the pool chosen above.
std::string fewshot_prefix(const TaskData& task, int64_t doc_index, const std::vector<int64_t>& shots);

// One request per choice: (prefix + text, delimiter + choice); Winogrande: (prefix + option's
// partial context, shared target); CrowS-Pairs: ("", sentence).
std::vector<TextRequest> build_requests(const TaskData& task, int64_t doc_index, const std::vector<int64_t>& shots);

}  // namespace sharelab::eval
