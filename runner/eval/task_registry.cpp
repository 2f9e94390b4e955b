// The task table: name -> the files it reads in a tasks directory (the ../shared/data layout), its
// lm-eval settings and leaderboard shots, one row each; MMLU's description; shot text.
#include <algorithm>
#include <filesystem>

#include "common/named_rows.h"
#include "runner/eval/read_util.h"
#include "runner/eval/task_readers.h"

namespace sharelab::eval {

namespace fs = std::filesystem;

namespace {

// Sorted files in `dir` whose names end with `suffix`; ConfigError when the folder is missing.
std::vector<fs::path> files_ending(const fs::path& dir, const std::string& suffix) {
  if (!fs::is_directory(dir)) throw ConfigError(dir.string() + ": missing folder (point --tasks-dir at the benchmark files)");
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A file the task reads, recorded in its details.
std::string add_file(TaskData& t, const fs::path& p) {
  t.files.push_back(p.string());
  return p.string();
}

// Optional training split beside the evaluation file: few-shot examples come from it when present.
template <typename Reader>
void add_train_pool(TaskData& t, const fs::path& p, Reader read) {
  if (fs::exists(p)) {
    t.fewshot_pool = read(p.string());
    t.fewshot_split = "train";
    t.files.push_back(p.string());
  }
}

void read_mmlu(TaskData& t, const fs::path& dir) {
  t.first_n_shots = true;
  t.fewshot_split = "dev";
  const auto tests = files_ending(dir / "mmlu" / "test", "_test.csv");
  if (tests.empty()) throw ConfigError((dir / "mmlu" / "test").string() + ": no <subject>_test.csv files");
  for (const auto& p : tests) {
    const std::string name = p.filename().string();
    const std::string subject = name.substr(0, name.size() - std::string("_test.csv").size());
    const fs::path dev = dir / "mmlu" / "dev" / (subject + "_dev.csv");
    for (auto& d : read_mmlu_csv(p.string(), subject)) t.docs.push_back(std::move(d));
    for (auto& d : read_mmlu_csv(dev.string(), subject)) t.fewshot_pool.push_back(std::move(d));
    t.files.push_back(p.string());
    t.files.push_back(dev.string());
  }
}

// Each task's files and layout; settings common to a task are in its row of kTasks below.
void read_arc(TaskData& t, const fs::path& dir, const std::string& stem) {
  t.docs = read_arc_jsonl(add_file(t, dir / "arc" / (stem + "-Test.jsonl")));
  add_train_pool(t, dir / "arc" / (stem + "-Train.jsonl"), read_arc_jsonl);
}

void read_hellaswag(TaskData& t, const fs::path& dir) {
  if (fs::exists(dir / "hellaswag" / "hellaswag_val.jsonl")) {
    t.docs = read_hellaswag_jsonl(add_file(t, dir / "hellaswag/hellaswag_val.jsonl"));
    t.note = "rowanz hellaswag_val.jsonl with lm-eval preprocessing";
  } else {
    t.docs = read_hellaswag_txt(add_file(t, dir / "hellaswag/hellaswag_val_full.txt"));
    t.note = "llama.cpp 6-line text (ctx merged upstream without capitalize()) + lm-eval preprocess";
  }
  add_train_pool(t, dir / "hellaswag" / "hellaswag_train.jsonl", read_hellaswag_jsonl);
}

void read_race(TaskData& t, const fs::path& dir) {
  const auto articles = files_ending(dir / "race" / "test" / "high", ".txt");
  if (articles.empty()) throw ConfigError((dir / "race/test/high").string() + ": no article files");
  for (const auto& p : articles) t.docs.push_back(read_race_article(p.string())[0]);
  t.files.push_back((dir / "race/test/high").string());
}

// One row per task: its name, how it is scored, lm-eval's settings and the Open LLM Leaderboard
// v1 shot count (the `leaderboard-v1` protocol; `mobilellm` is 0-shot everywhere).
struct TaskRow {
  const char* name;
  Scoring scoring;
  bool report_acc_norm;   // lm-eval v0.3 reports acc_norm for this task
  bool fewshot_allowed;   // TruthfulQA's prompt is a fixed 6-shot primer; CrowS-Pairs has no shots
  int64_t leaderboard_shots;
  void (*read)(TaskData& t, const fs::path& dir);
};

const std::vector<TaskRow> kTasks = {
    {"arc_challenge", Scoring::kChoice, true, true, 25,
     [](TaskData& t, const fs::path& d) { read_arc(t, d, "ARC-Challenge"); }},
    {"arc_easy", Scoring::kChoice, true, true, 0, [](TaskData& t, const fs::path& d) { read_arc(t, d, "ARC-Easy"); }},
    {"hellaswag", Scoring::kChoice, true, true, 10, read_hellaswag},
    {"piqa", Scoring::kChoice, true, true, 0,
     [](TaskData& t, const fs::path& d) {
       t.docs = read_piqa(add_file(t, d / "piqa/valid.jsonl"), add_file(t, d / "piqa/valid-labels.lst"));
     }},
    {"winogrande", Scoring::kPartial, false, true, 5,
     [](TaskData& t, const fs::path& d) {
       t.docs = read_winogrande_jsonl(add_file(t, d / "winogrande/dev.jsonl"));
       add_train_pool(t, d / "winogrande" / "train_xl.jsonl", read_winogrande_jsonl);
     }},
    {"siqa", Scoring::kChoice, true, true, 0,
     [](TaskData& t, const fs::path& d) { t.docs = read_siqa_jsonl(add_file(t, d / "siqa/socialIQa_v1.4_dev.jsonl")); }},
    {"boolq", Scoring::kChoice, false, true, 0,
     [](TaskData& t, const fs::path& d) { t.docs = read_boolq_jsonl(add_file(t, d / "boolq/dev.jsonl")); }},
    {"openbookqa", Scoring::kChoice, true, true, 0,
     [](TaskData& t, const fs::path& d) { t.docs = read_openbookqa_jsonl(add_file(t, d / "openbookqa/test.jsonl")); }},
    {"race", Scoring::kChoice, false, true, 0, read_race},
    {"truthfulqa_mc1", Scoring::kChoice, false, false, 0,
     [](TaskData& t, const fs::path& d) { t.docs = read_truthfulqa_json(add_file(t, d / "truthfulqa/mc_task.json"), false); }},
    {"truthfulqa_mc2", Scoring::kMc2, false, false, 0,
     [](TaskData& t, const fs::path& d) { t.docs = read_truthfulqa_json(add_file(t, d / "truthfulqa/mc_task.json"), true); }},
    {"mmlu", Scoring::kChoice, false, true, 5, read_mmlu},  // one-letter choices: acc_norm == acc
    {"crows_pairs", Scoring::kPairBias, false, false, 0,
     [](TaskData& t, const fs::path& d) {
       t.delimiter = "";  // the sentence is the whole continuation
       t.docs = read_crows_pairs_csv(add_file(t, d / "crows_pairs/crows_pairs_anonymized.csv"));
     }},
};

const TaskRow& task_row(const std::string& name) { return find_named(kTasks, name, "task"); }

}  // namespace

const std::vector<std::string>& known_tasks() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& r : kTasks) out.push_back(r.name);
    return out;
  }();
  return names;
}

std::string known_tasks_text() { return names_of(kTasks); }

int64_t leaderboard_shots(const std::string& name) {
  for (const auto& r : kTasks)
    if (name == r.name) return r.leaderboard_shots;
  return 0;  // the perplexity tasks (wikitext, heldout) are not multiple choice: no shots
}

TaskData read_task(const std::string& name, const std::string& dir) {
  const TaskRow& row = task_row(name);
  TaskData t;
  t.name = row.name;
  t.scoring = row.scoring;
  t.report_acc_norm = row.report_acc_norm;
  t.fewshot_allowed = row.fewshot_allowed;
  t.fewshot_split = "eval-minus-doc";
  row.read(t, fs::path(dir));
  if (t.docs.empty()) throw ConfigError(t.files.empty() ? name : t.files[0] + ": no records");
  return t;
}

std::string task_description(const TaskData& task, const McDoc& doc) {
  if (task.name != "mmlu") return "";
  std::string s = doc.subject;
  std::replace(s.begin(), s.end(), '_', ' ');
  return "The following are multiple choice questions (with answers) about " + s + ".\n\n";
}

std::string shot_text(const TaskData& task, const McDoc& shot) {
  if (task.scoring == Scoring::kPartial) return shot.partial_contexts[shot.gold] + shot.partial_target;
  return shot.text + task.delimiter + shot.choices[shot.gold];
}

}  // namespace sharelab::eval
