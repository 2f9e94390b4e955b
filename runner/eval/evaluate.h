// The harness's entry points: evaluate a loaded model on named tasks (evaluate_model), or a run
// directory / checkpoint / HF model with its tokenizer, writing one EvalRow per run x task x
// metric into the results store (evaluate_run: what `runner eval` and the sweep runner call).
//
// Task names: the multiple-choice tasks of task_readers.h (known_tasks()), plus the perplexities
//   wikitext       lm-eval `wikitext` (rolling, word/byte ppl, bits per byte) on WikiText-2 test;
//                  stored as task "wikitext2_v1_tokenized" for the shared tokenized release, or
//                  "wikitext2_raw" when <tasks-dir>/wikitext-2-raw/wiki.test.raw is supplied
//   wikitext_token MobileLLM token perplexity (2048-token chunks, tail dropped) on the same file
//   heldout        token perplexity on the held-out ("val") split of the run's prepared data
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/model.h"
#include "runner/config/run_config.h"
#include "runner/eval/request.h"
#include "runner/store/results_store.h"

namespace sharelab::eval {

struct EvalOptions {
  std::vector<std::string> tasks;
  int64_t limit = 0;               // documents (pages, chunks, rows) per task; 0 = all
  int64_t shots = -1;              // -1: the protocol's number for each task
  std::string protocol = "mobilellm";  // "mobilellm" (all 0-shot) | "leaderboard-v1"
  std::string tasks_dir = config::kDefaultTasksDir;
  std::string tokenizer;           // "" = the run's (data dir) or the HF directory's tokenizer.model
  int64_t batch = 8;
  BosPolicy bos = BosPolicy::kNone;  // leaderboard v1 adds no BOS
  bool bf16 = false;               // bf16 autocast forward (CPU)
  int64_t max_length = 0;          // 0 = the model's max_seq_len
  int64_t token_ppl_chunk = 2048;  // MobileLLM chunk (capped at the model length)
  int threads = 0;                 // 0 = leave LibTorch's setting
  bool progress = true;            // progress on stderr (common/progress.h)
  std::string run_id;              // "" = derived from the path
};

// Few-shot count of `task` under `protocol` (leaderboard-v1: ARC-C 25, HellaSwag 10, MMLU 5,
// Winogrande 5, others 0; mobilellm: 0). ConfigError for an unknown protocol.
int64_t protocol_shots(const std::string& protocol, const std::string& task);
std::vector<std::string> known_eval_tasks();  // known_tasks() + wikitext, wikitext_token, heldout

// Reads every benchmark file `opt.tasks` needs, as the evaluation will: an unknown task or protocol, a
// missing file or a malformed record -> ConfigError naming it, before any model work or output.
void check_task_files(const EvalOptions& opt);

// Evaluates `model` with tokenizer `enc` (every task but "heldout", which needs a run's data).
std::vector<store::EvalRow> evaluate_model(arch::CausalLM model, const TextEncoder& enc, const std::string& run_id,
                                           const EvalOptions& opt);

// Loads the model (eval::load_model_source) and its SentencePiece tokenizer, evaluates, and puts
// the rows into `store` when non-null. Returns the rows.
std::vector<store::EvalRow> evaluate_run(const std::string& run_dir_or_ckpt, const EvalOptions& opt,
                                         store::ResultsStore* store);

}  // namespace sharelab::eval
