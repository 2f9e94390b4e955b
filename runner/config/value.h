// One configuration value as written in a sweep file, a profile or a --set flag, with where it
// came from ("configs/table1.toml:12:1" or "--set train.lr=1e-3") so every later error can point
// at the line that caused it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sharelab::config {

struct Value {
  enum class Kind { kInt, kFloat, kBool, kString, kStringList };
  Kind kind = Kind::kString;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<std::string> list;

  static Value integer(int64_t x) { return {Kind::kInt, x, 0, false, {}, {}}; }
  static Value number(double x) { return {Kind::kFloat, 0, x, false, {}, {}}; }
  static Value boolean(bool x) { return {Kind::kBool, 0, 0, x, {}, {}}; }
  static Value string(std::string x) { return {Kind::kString, 0, 0, false, std::move(x), {}}; }
  static Value strings(std::vector<std::string> x) { return {Kind::kStringList, 0, 0, false, {}, std::move(x)}; }

  std::string describe() const;  // "integer 3", "string \"abc\"", ... for error messages
  std::string text() const;      // 3, 0.001, true, abc, [a, b]: for run names and the plan
};

// "section.key = value" at a source location.
struct Assignment {
  std::string path;  // "train.lr", "model.preset"
  Value value;
  std::string where;
};

}  // namespace sharelab::config
