// File and JSON helpers shared by the task readers: whole-file reads, jsonl lines, and typed
// field access whose errors name the file, the record and the field (one-line ConfigError).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/errors.h"

namespace sharelab::eval {

using OrderedJson = nlohmann::ordered_json;  // keeps file order (TruthfulQA's answer dicts)

[[noreturn]] inline void bad_record(const std::string& path, const std::string& record, const std::string& what) {
  throw ConfigError(path + ": " + record + ": " + what);
}

std::string read_text_file(const std::string& path);  // ConfigError when missing/unreadable

// Non-empty lines of a jsonl file, parsed; the record label is "line N".
struct JsonLine {
  std::string record;
  OrderedJson value;
};
std::vector<JsonLine> read_jsonl(const std::string& path);
OrderedJson parse_json(const std::string& text, const std::string& path, const std::string& record);

// j[key] as a string / int / bool / object / array; anything else -> ConfigError naming the field.
std::string json_str(const OrderedJson& j, const char* key, const std::string& path, const std::string& rec);
const OrderedJson& json_field(const OrderedJson& j, const char* key, const std::string& path, const std::string& rec);

}  // namespace sharelab::eval
