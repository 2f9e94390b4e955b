// Task readers on small fixtures: malformed and missing files give one-line errors that name the
// file and the record; CSV quoting. The readers on the real public files: test_eval_tasks_shared.cpp.
#include <doctest/doctest.h>

#include <functional>

#include "common/errors.h"
#include "runner/eval/task_readers.h"

using namespace sharelab::eval;

namespace {

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
