// File and JSON helpers for the task readers (see read_util.h).
#include "runner/eval/read_util.h"

#include <fstream>
#include <sstream>

namespace sharelab::eval {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open file (missing? point --tasks-dir at the benchmark files)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

OrderedJson parse_json(const std::string& text, const std::string& path, const std::string& record) {
  try {
    return OrderedJson::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e505
    bad_record(path, record, std::string("invalid JSON (") + e.what() + ")");
  }
}

std::vector<JsonLine> read_jsonl(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<JsonLine> out;
  size_t pos = 0;
  for (int64_t line = 1; pos < text.size(); ++line) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string l = text.substr(pos, end - pos);
    pos = end + 1;
    if (l.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string rec = "line " + std::to_string(line);
    out.push_back({rec, parse_json(l, path, rec)});
  }
  return out;
}

const OrderedJson& json_field(const OrderedJson& j, const char* key, const std::string& path, const std::string& rec) {
  if (!j.is_object() || !j.contains(key)) bad_record(path, rec, std::string("missing field '") + key + "'");
  return j.at(key);
}

std::string json_str(const OrderedJson& j, const char* key, const std::string& path, const std::string& rec) {
  const OrderedJson& v = json_field(j, key, path, rec);
  if (!v.is_string()) bad_record(path, rec, std::string("field '") + key + "' must be a string, got " + v.dump());
  return v.get<std::string>();
}

}  // namespace sharelab::eval
