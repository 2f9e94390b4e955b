// A small JSON reader/writer for the data pipeline: Amber jsonl lines, manifest.json. No JSON
// library is installed and this needs only values, not a DOM API: parse() returns a Json tree and
// throws JsonError with the byte offset of the first problem; the caller adds file and line.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace sharelab::data {

struct JsonError : std::runtime_error {
  JsonError(const std::string& what, size_t offset) : std::runtime_error(what), offset(offset) {}
  size_t offset;
};

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  bool integral = false;  // the literal had no fraction/exponent: `integer` is exact
  int64_t integer = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  bool is_object() const { return kind == Kind::kObject; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kNumber; }
  const Json* find(const std::string& key) const;  // nullptr when absent or not an object
};

Json parse_json(const std::string& text);

// Appends `s` as a JSON string literal (quotes and escapes) to `out`.
void append_json_string(std::string& out, const std::string& s);

}  // namespace sharelab::data
