// Readers for the benchmarks as they are published (the layout of ../shared/data, or a user's own
// downloads in the same layout), with lm-eval's per-task preprocessing applied. A missing or
// malformed file is a ConfigError naming the file and the record (line or id) and the field.
#pragma once

#include <string>
#include <vector>

#include "runner/eval/task.h"

namespace sharelab::eval {

// Every task name read_task() accepts, in a stable order.
const std::vector<std::string>& known_tasks();
std::string known_tasks_text();  // "arc_challenge, arc_easy, ..."
int64_t leaderboard_shots(const std::string& name);  // Open LLM Leaderboard v1 shots; 0 off the table

// Reads task `name` from `dir` (arc/, hellaswag/, mmlu/{dev,test}/, piqa/, ...).
TaskData read_task(const std::string& name, const std::string& dir);

// --- per-format readers (the file paths as published) ------------------------------------------
std::vector<McDoc> read_arc_jsonl(const std::string& path);         // ARC and OpenBookQA (same format)
std::vector<McDoc> read_openbookqa_jsonl(const std::string& path);  // prompt = stem only
std::vector<McDoc> read_hellaswag_jsonl(const std::string& path);   // rowanz hellaswag_val.jsonl
std::vector<McDoc> read_hellaswag_txt(const std::string& path);     // llama.cpp 6-line format
std::vector<McDoc> read_piqa(const std::string& jsonl, const std::string& labels);
std::vector<McDoc> read_winogrande_jsonl(const std::string& path);
std::vector<McDoc> read_siqa_jsonl(const std::string& path);
std::vector<McDoc> read_boolq_jsonl(const std::string& path);
std::vector<McDoc> read_truthfulqa_json(const std::string& path, bool mc2);
std::vector<McDoc> read_mmlu_csv(const std::string& path, const std::string& subject);
std::vector<McDoc> read_race_article(const std::string& path);  // one RACE-H article -> one doc
std::vector<McDoc> read_crows_pairs_csv(const std::string& path);

// lm-eval's HellaSwag preprocess(): strip, " [title]" -> ". ", drop [..], one pass of "  " -> " ".
std::string hellaswag_preprocess(const std::string& text);

// A headerless-aware RFC 4180 CSV reader (quoted fields may hold commas, quotes and newlines).
// Each row comes with the 1-based line number it started on.
struct CsvRow {
  int64_t line = 0;
  std::vector<std::string> fields;
};
std::vector<CsvRow> read_csv(const std::string& path);

}  // namespace sharelab::eval
