// common/toml_reader: the one message format "FILE:LINE:COL: section.key: what was expected" for a
// missing file, a syntax error, a wrong type, a value out of range, an unknown key and a missing one.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "common/toml_reader.h"

using sharelab::ConfigError;
using sharelab::TomlReader;
namespace fs = std::filesystem;

namespace {

const char* kText = R"([train]
lr = 3e-4
steps = 10
name = "x"
fast = true
tasks = ["a", "b"]
bad_list = ["a", 2]
[[column]]
label = "one"
[[column]]
label = "two"
)";

struct Doc {
  toml::table root = toml::parse(kText);
  TomlReader reader{"f.toml", root, ""};
};

}  // namespace

TEST_CASE("parse_toml_file: a missing file and a syntax error with its position") {
  const fs::path dir = fs::path(SHARELAB_BINARY_DIR) / "test_toml_reader_tmp";
  fs::create_directories(dir);
  const std::string missing = (dir / "absent.toml").string();
  CHECK_THROWS_WITH_AS(sharelab::parse_toml_file(missing), (missing + ": no such file").c_str(), ConfigError);
  const std::string bad = (dir / "bad.toml").string();
  std::ofstream(bad) << "[a]\nx = 1\ny debug\n";
  CHECK_THROWS_WITH_AS(sharelab::parse_toml_file(bad), doctest::Contains((bad + ":3:3: TOML syntax error: ").c_str()),
                       ConfigError);
}

TEST_CASE("typed getters: values, absent keys, wrong types at the value") {
  Doc d;
  auto train = d.reader.table("train");
  REQUIRE(train);
  CHECK(train->number("lr") == 3e-4);
  CHECK(train->number("steps") == 10.0);  // an integer is a number
  CHECK(train->integer("steps", 1, 100) == 10);
  CHECK(train->string("name") == "x");
  CHECK(train->boolean("fast") == true);
  const std::vector<std::string> tasks = {"a", "b"};
  CHECK(train->strings("tasks") == tasks);
  CHECK_FALSE(train->string("absent"));
  CHECK_FALSE(d.reader.table("absent"));
  CHECK(d.reader.tables("absent").empty());

  CHECK_THROWS_WITH_AS(train->integer("lr"), "f.toml:2:6: train.lr: expected an integer, got float 0.0003",
                       ConfigError);
  CHECK_THROWS_WITH_AS(train->integer("steps", 20),
                       "f.toml:3:9: train.steps: expected an integer >= 20, got integer 10", ConfigError);
  CHECK_THROWS_WITH_AS(train->integer("steps", 0, 5),
                       "f.toml:3:9: train.steps: expected an integer in [0, 5], got integer 10", ConfigError);
  CHECK_THROWS_WITH_AS(train->number("name"), "f.toml:4:8: train.name: expected a number, got string \"x\"",
                       ConfigError);
  CHECK_THROWS_WITH_AS(train->boolean("steps"), "f.toml:3:9: train.steps: expected true or false, got integer 10",
                       ConfigError);
  CHECK_THROWS_WITH_AS(train->strings("bad_list"),
                       "f.toml:7:18: train.bad_list: expected a list of strings, got integer 2 in it", ConfigError);
  CHECK_THROWS_WITH_AS(train->table("tasks"), "f.toml:6:9: train.tasks: expected a table, got array [\"a\", \"b\"]",
                       ConfigError);
  CHECK_THROWS_WITH_AS(d.reader.tables("train"), "f.toml:1:1: train: expected [[train]] tables, got table",
                       ConfigError);
}

TEST_CASE("arrays of tables, each read strictly under the array's name") {
  Doc d;
  auto columns = d.reader.tables("column");
  REQUIRE(columns.size() == 2);
  CHECK(columns[1].required_string("label") == "two");
  columns[1].finish();
  CHECK(columns[0].where("label") == "f.toml:9:9");
  CHECK_THROWS_WITH_AS(columns[0].fail_expected("label", "a number"),
                       "f.toml:9:9: column.label: expected a number, got string \"one\"", ConfigError);
}

TEST_CASE("finish: an unknown key lists the known ones in the order asked, then a missing required key") {
  Doc d;
  auto train = d.reader.table("train");
  train->number("lr");
  train->integer("steps");
  CHECK_THROWS_WITH_AS(train->finish(), "f.toml:7:1: train.bad_list: unknown key (known: lr, steps)", ConfigError);

  auto columns = d.reader.tables("column");
  CHECK(columns[0].required_string("name").empty());  // reported by finish(), after unknown keys
  CHECK_THROWS_WITH_AS(columns[0].finish(), "f.toml:9:1: column.label: unknown key (known: name)", ConfigError);
  columns[1].string("label");
  columns[1].required_string("name");
  CHECK_THROWS_WITH_AS(columns[1].finish(), "f.toml:10:1: column.name: missing, expected a string", ConfigError);
}

TEST_CASE("the message format, for flags too") {
  CHECK(std::string(sharelab::config_error("--set train.lr=x", "train.lr", "expected a number").what()) ==
        "--set train.lr=x: train.lr: expected a number");
}
