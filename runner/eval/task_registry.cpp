// Task name -> the files it reads in a tasks directory (the ../shared/data layout) and its
// lm-eval settings (scoring, acc_norm reported, few-shot source); MMLU's description; shot text.
#include <algorithm>
#include <filesystem>

#include "runner/eval/read_util.h"
#include "runner/eval/task_readers.h"

namespace sharelab::eval {

namespace fs = std::filesystem;

const std::vector<std::string>& known_tasks() {
  static const std::vector<std::string> k = {"arc_challenge", "arc_easy",       "hellaswag",      "piqa",
                                             "winogrande",    "siqa",           "boolq",          "openbookqa",
                                             "race",          "truthfulqa_mc1", "truthfulqa_mc2", "mmlu",
                                             "crows_pairs"};
  return k;
}

std::string known_tasks_text() {
  std::string out;
  for (const auto& t : known_tasks()) out += (out.empty() ? "" : ", ") + t;
  return out;
}

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

// Optional training split beside the evaluation file: few-shot examples come from it when present.
template <typename Reader>
void add_train_pool(TaskData& t, const fs::path& p, Reader read) {
  if (fs::exists(p)) {
    t.fewshot_pool = read(p.string());
    t.fewshot_split = "train";
    t.files.push_back(p.string());
  }
}

TaskData read_mmlu(const fs::path& dir) {
  TaskData t;
  t.name = "mmlu";
  t.report_acc_norm = false;  // every choice is one letter: acc_norm == acc
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
  return t;
}

}  // namespace

TaskData read_task(const std::string& name, const std::string& dir_text) {
  const fs::path dir(dir_text);
  TaskData t;
  t.name = name;
  t.fewshot_split = "eval-minus-doc";
  auto file = [&](const fs::path& rel) {
    t.files.push_back((dir / rel).string());
    return (dir / rel).string();
  };
  if (name == "arc_challenge" || name == "arc_easy") {
    const std::string stem = name == "arc_challenge" ? "ARC-Challenge" : "ARC-Easy";
    t.docs = read_arc_jsonl(file(fs::path("arc") / (stem + "-Test.jsonl")));
    add_train_pool(t, dir / "arc" / (stem + "-Train.jsonl"), read_arc_jsonl);
  } else if (name == "hellaswag") {
    if (fs::exists(dir / "hellaswag" / "hellaswag_val.jsonl")) {
      t.docs = read_hellaswag_jsonl(file("hellaswag/hellaswag_val.jsonl"));
      t.note = "rowanz hellaswag_val.jsonl with lm-eval preprocessing";
    } else {
      t.docs = read_hellaswag_txt(file("hellaswag/hellaswag_val_full.txt"));
      t.note = "llama.cpp 6-line text (ctx merged upstream without capitalize()) + lm-eval preprocess";
    }
    add_train_pool(t, dir / "hellaswag" / "hellaswag_train.jsonl", read_hellaswag_jsonl);
  } else if (name == "piqa") {
    t.docs = read_piqa(file("piqa/valid.jsonl"), file("piqa/valid-labels.lst"));
  } else if (name == "winogrande") {
    t.scoring = Scoring::kPartial;
    t.report_acc_norm = false;
    t.docs = read_winogrande_jsonl(file("winogrande/dev.jsonl"));
    add_train_pool(t, dir / "winogrande" / "train_xl.jsonl", read_winogrande_jsonl);
  } else if (name == "siqa") {
    t.docs = read_siqa_jsonl(file("siqa/socialIQa_v1.4_dev.jsonl"));
  } else if (name == "boolq") {
    t.report_acc_norm = false;
    t.docs = read_boolq_jsonl(file("boolq/dev.jsonl"));
  } else if (name == "openbookqa") {
    t.docs = read_openbookqa_jsonl(file("openbookqa/test.jsonl"));
  } else if (name == "race") {
    t.report_acc_norm = false;
    const auto articles = files_ending(dir / "race" / "test" / "high", ".txt");
    if (articles.empty()) throw ConfigError((dir / "race/test/high").string() + ": no article files");
    for (const auto& p : articles) t.docs.push_back(read_race_article(p.string())[0]);
    t.files.push_back((dir / "race/test/high").string());
  } else if (name == "truthfulqa_mc1" || name == "truthfulqa_mc2") {
    const bool mc2 = name == "truthfulqa_mc2";
    t.scoring = mc2 ? Scoring::kMc2 : Scoring::kChoice;
    t.report_acc_norm = false;
    t.fewshot_allowed = false;
    t.docs = read_truthfulqa_json(file("truthfulqa/mc_task.json"), mc2);
  } else if (name == "mmlu") {
    t = read_mmlu(dir);
  } else if (name == "crows_pairs") {
    t.scoring = Scoring::kPairBias;
    t.delimiter = "";
    t.report_acc_norm = false;
    t.fewshot_allowed = false;
    t.docs = read_crows_pairs_csv(file("crows_pairs/crows_pairs_anonymized.csv"));
  } else {
    throw ConfigError("unknown task '" + name + "'; known: " + known_tasks_text());
  }
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
