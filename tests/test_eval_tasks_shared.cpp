// Every task reader on the real public files in ../shared/data: record counts as published, first
// records as the MANIFEST quotes them. Without the folder the executable exits 77 and ctest reports
// it skipped (shared_data_main.cpp).
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "runner/eval/fewshot.h"
#include "runner/eval/task_readers.h"
#include "shared_data.h"

using namespace sharelab::eval;

SHARELAB_NEEDS_SHARED_DATA("MANIFEST.md");

namespace {

const std::string kData = sharelab_test::shared_data_dir();

}  // namespace

TEST_CASE("task readers on the shared files: counts and first records") {
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
