// Few-shot selection and request construction (see fewshot.h).
#include "runner/eval/fewshot.h"

#include <random>

#include "common/errors.h"
#include "common/stable_hash.h"

namespace sharelab::eval {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<int64_t> choose_shots(const TaskData& task, int64_t doc_index, int64_t k, uint64_t seed) {
  if (k <= 0) return {};
  if (!task.fewshot_allowed)
    throw ConfigError("task " + task.name + ": few-shot is not allowed (0-shot only), got --shots " + std::to_string(k));
  std::vector<int64_t> out;
  if (task.first_n_shots) {  // MMLU: the first k dev examples of the same subject, file order
    const std::string& subject = task.docs[doc_index].subject;
    for (int64_t i = 0; i < int64_t(task.fewshot_pool.size()) && int64_t(out.size()) < k; ++i)
      if (task.fewshot_pool[i].subject == subject) out.push_back(i);
  } else {
    const bool own = task.fewshot_pool.empty();  // draw from the evaluation split itself
    const int64_t n = own ? int64_t(task.docs.size()) : int64_t(task.fewshot_pool.size());
    std::vector<int64_t> cand;
    cand.reserve(n);
    for (int64_t i = 0; i < n; ++i)
      if (!own || i != doc_index) cand.push_back(i);
    std::mt19937_64 rng(splitmix64(seed ^ fnv1a64(task.name) ^ splitmix64(uint64_t(doc_index))));
    // Partial Fisher-Yates: the first k of a uniform random permutation (sampling without replacement).
    for (int64_t i = 0; i < k && i < int64_t(cand.size()); ++i) {
      std::uniform_int_distribution<int64_t> pick(i, int64_t(cand.size()) - 1);
      std::swap(cand[i], cand[pick(rng)]);
      out.push_back(cand[i]);
    }
  }
  if (int64_t(out.size()) < k)
    throw ConfigError("task " + task.name + ": " + std::to_string(k) + " shots requested but the few-shot pool (" +
                      task.fewshot_split + ") has only " + std::to_string(out.size()));
  return out;
}

std::string fewshot_prefix(const TaskData& task, int64_t doc_index, const std::vector<int64_t>& shots) {
  const McDoc& doc = task.docs[doc_index];
  std::string out = task_description(task, doc);
  const auto& pool = task.fewshot_pool.empty() ? task.docs : task.fewshot_pool;
  for (size_t i = 0; i < shots.size(); ++i) out += shot_text(task, pool[shots[i]]) + "\n\n";
  return out;
}

std::vector<TextRequest> build_requests(const TaskData& task, int64_t doc_index, const std::vector<int64_t>& shots) {
  const McDoc& doc = task.docs[doc_index];
  std::vector<TextRequest> out;
  if (task.scoring == Scoring::kPairBias) {
    for (const auto& c : doc.choices) out.push_back({"", c});
    return out;
  }
  const std::string prefix = fewshot_prefix(task, doc_index, shots);
  if (task.scoring == Scoring::kPartial) {
    for (const auto& ctx : doc.partial_contexts) out.push_back({prefix + ctx, doc.partial_target});
    return out;
  }
  for (const auto& c : doc.choices) out.push_back({prefix + doc.text, task.delimiter + c});
  return out;
}

}  // namespace sharelab::eval
