// Every task reader on the real public files in ../shared/data (record counts as published, first
// records as the MANIFEST quotes them), and malformed files giving one-line errors that name the
// file and the record.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <fstream>

#include "common/errors.h"
#include "runner/eval/fewshot.h"
#include "runner/eval/task_readers.h"

using namespace sharelab::eval;
namespace fs = std::filesystem;

namespace {

const std::string kData = std::string(SHARELAB_SOURCE_DIR) + "/../shared/data";
const std::string kFixtures = std::string(SHARELAB_SOURCE_DIR) + "/tests/fixtures/eval";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sharelab::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("task readers on the shared files: counts and first records") {
  if (!fs::exists(kData + "/MANIFEST.md")) return;  // data not present on this machine
  const std::map<std::string, size_t> counts = {
      {"arc_challenge", 1172}, {"arc_easy", 2376}, {"hellaswag", 10042}, {"piqa", 1838},
      {"winogrande", 1267},    {"siqa", 1954},     {"boolq", 3270},      {"openbookqa", 500},
      {"race", 1045},          {"truthfulqa_mc1", 817}, {"truthfulqa_mc2", 817}, {"mmlu", 14042},
      {"crows_pairs", 1508}};
  for (const auto& name : known_tasks()) {
    SUBCASE(name.c_str()) {
      const TaskData t = read_task(name, kData);
      CHECK(t.docs.size() == counts.at(name));
      for (const auto& d : t.docs) {
        REQUIRE(d.gold >= 0);
        REQUIRE(d.gold < int(d.choices.size()));
      }
    }
  }
}

TEST_CASE("first records match the published files") {
  if (!fs::exists(kData + "/MANIFEST.md")) return;
  const TaskData arc = read_task("arc_challenge", kData);
  CHECK(arc.docs[0].id == "Mercury_7175875");
  CHECK(arc.docs[0].gold == 2);  // answerKey C
  CHECK(arc.docs[0].text.rfind("Question: ", 0) == 0);

  const TaskData hs = read_task("hellaswag", kData);
  CHECK(hs.docs[0].text == "Roof shingle removal: A man is sitting on a roof. he");
  CHECK(hs.docs[0].gold == 3);
  CHECK(hs.docs[0].choices[0] == "is using wrap to wrap a pair of skis.");

  const TaskData mmlu = read_task("mmlu", kData);
  CHECK(mmlu.fewshot_pool.size() == 285);
  std::set<std::string> subjects;
  for (const auto& d : mmlu.docs) subjects.insert(d.subject);
  CHECK(subjects.size() == 57);
  CHECK(mmlu.docs[0].subject == "abstract_algebra");
  CHECK(mmlu.docs[0].text ==
        "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nA. 0\nB. 4\nC. 2\nD. "
        "6\nAnswer:");
  CHECK(mmlu.docs[0].gold == 1);
  const auto r = build_requests(mmlu, 0, choose_shots(mmlu, 0, 5));
  CHECK(r[0].context.rfind("The following are multiple choice questions (with answers) about abstract algebra.\n\n",
                           0) == 0);

  const TaskData wg = read_task("winogrande", kData);
  CHECK(wg.docs[0].partial_contexts[1] == "Sarah was a much better surgeon than Maria so Maria");
  CHECK(wg.docs[0].partial_target == " always got the easier cases.");
  CHECK(wg.docs[0].gold == 1);

  const TaskData tq = read_task("truthfulqa_mc2", kData);
  CHECK(tq.docs[0].choices.size() == 6);
  CHECK(tq.docs[0].text.find("\n\nQ: What happens if you eat a pomegranate?\nA:") != std::string::npos);
  CHECK(read_task("truthfulqa_mc1", kData).docs[0].choices.size() == 4);

  const TaskData piqa = read_task("piqa", kData);
  CHECK(piqa.docs[0].text == "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
  CHECK(piqa.docs[0].gold == 0);
  CHECK(read_task("siqa", kData).docs[0].gold == 2);      // correct C
  CHECK(read_task("boolq", kData).docs[0].gold == 0);     // false -> "no"
  CHECK(read_task("openbookqa", kData).docs[0].gold == 1);  // answerKey B
  const TaskData race = read_task("race", kData);
  CHECK(race.docs[0].text.rfind("Article: ", 0) == 0);
}

TEST_CASE("malformed and missing files name the file and the record") {
  std::string e = error_of([] { read_arc_jsonl(kFixtures + "/arc_bad_key.jsonl"); });
  CHECK(e.find("arc_bad_key.jsonl: line 2: field 'answerKey' is 'F'") != std::string::npos);
  e = error_of([] { read_arc_jsonl(kFixtures + "/arc_bad_json.jsonl"); });
  CHECK(e.find("arc_bad_json.jsonl: line 1: invalid JSON") != std::string::npos);
  e = error_of([] { read_mmlu_csv(kFixtures + "/mmlu_short_row.csv", "x"); });
  CHECK(e.find("mmlu_short_row.csv: line 2: 5 fields, expected 6") != std::string::npos);
  e = error_of([] { read_winogrande_jsonl(kFixtures + "/winogrande_no_blank.jsonl"); });
  CHECK(e.find("winogrande_no_blank.jsonl: line 1: field 'sentence' has no '_' blank") != std::string::npos);
  e = error_of([] { read_task("arc_challenge", kFixtures + "/nowhere"); });
  CHECK(e.find("ARC-Challenge-Test.jsonl: cannot open file") != std::string::npos);
  e = error_of([] { read_task("lambada", kFixtures); });
  CHECK(e.find("unknown task 'lambada'; known: arc_challenge") != std::string::npos);
  CHECK(e.find('\n') == std::string::npos);
}

TEST_CASE("CSV: quoted fields with commas, quotes and newlines") {
  const auto rows = read_csv(kFixtures + "/quoted.csv");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].fields == std::vector<std::string>{"a, b", "say \"hi\"", "two\nlines"});
  CHECK(rows[1].line == 3);
  CHECK(rows[1].fields == std::vector<std::string>{"x", "", "z"});
}
