// The in-memory form of one benchmark after lm-eval's per-task preprocessing: documents with a
// prompt (doc_to_text), choices without the target delimiter, a gold index, and how they are
// scored. Task readers (task_readers.h) produce it from the public files; fewshot.h turns a
// document into (context, continuation) requests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sharelab::eval {

enum class Scoring {
  kChoice,    // one request per choice: (prompt, delimiter + choice); acc / acc_norm
  kPartial,   // Winogrande: the choice goes into the context, the shared suffix is scored; acc
  kMc2,       // TruthfulQA MC2: normalised probability mass of the true answers
  kPairBias,  // CrowS-Pairs: (empty context, sentence); pct_stereotype, likelihood_diff
};

struct McDoc {
  std::string id;                    // record id in the file ("line 12", the record's id field)
  std::string text;                  // doc_to_text: the prompt the choices continue
  std::vector<std::string> choices;  // without the target delimiter
  int gold = 0;                      // index into choices (kMc2: unused)
  std::vector<int> mc2_labels;       // kMc2: 1 = true answer, per choice
  std::string subject;               // MMLU subject ("abstract_algebra"); "" elsewhere
  std::vector<std::string> partial_contexts;  // kPartial: sentence[:i] + option, per choice
  std::string partial_target;                 // kPartial: " " + sentence[i+1:].strip()
};

struct TaskData {
  std::string name;       // "arc_challenge", "mmlu", ...
  Scoring scoring = Scoring::kChoice;
  std::string delimiter = " ";  // target_delimiter
  bool report_acc_norm = true;  // acc_norm is reported (lm-eval v0.3 reports it for this task)
  std::vector<McDoc> docs;      // the evaluation split, in file order
  // Few-shot source. Empty: shots are drawn from `docs` without the document itself (lm-eval v0.3
  // when a task has no training split, which is the case for every file in ../shared/data).
  std::vector<McDoc> fewshot_pool;
  std::string fewshot_split;   // "train", "dev" or "eval-minus-doc"
  bool first_n_shots = false;  // MMLU: the first k dev examples of the document's subject
  bool fewshot_allowed = true;  // TruthfulQA: 0-shot only (its prompt is a fixed 6-shot primer)
  std::vector<std::string> files;  // what was read (for the results' details)
  std::string note;                // e.g. which HellaSwag format was read
};

// MMLU's description line for a subject ("...about abstract algebra.\n\n"); "" for other tasks.
std::string task_description(const TaskData& task, const McDoc& doc);

// The few-shot example as text + target (doc_to_text + doc_to_target).
std::string shot_text(const TaskData& task, const McDoc& shot);

}  // namespace sharelab::eval
