// config.json -> RunConfig through the sweep's own typed assignment (runner/config/config_fields.h),
// so the keys and their checks are those of a sweep file.
#include "runner/train/run_json.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "common/errors.h"
#include "runner/config/config_fields.h"

namespace sharelab::train {

namespace {

config::Value to_value(const nlohmann::json& j, const std::string& where) {
  config::Value v;
  using K = config::Value::Kind;
  if (j.is_boolean()) {
    v.kind = K::kBool;
    v.b = j.get<bool>();
  } else if (j.is_number_integer()) {
    v.kind = K::kInt;
    v.i = j.get<int64_t>();
  } else if (j.is_number()) {
    v.kind = K::kFloat;
    v.f = j.get<double>();
  } else if (j.is_string()) {
    v.kind = K::kString;
    v.s = j.get<std::string>();
  } else if (j.is_array()) {
    v.kind = K::kStringList;
    for (const auto& e : j) {
      if (!e.is_string()) throw ConfigError(where + ": expected a list of strings");
      v.list.push_back(e.get<std::string>());
    }
  } else {
    throw ConfigError(where + ": unsupported JSON value " + j.dump());
  }
  return v;
}

}  // namespace

config::RunConfig run_config_from_json(const std::string& text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!j.is_object()) throw ConfigError(path + ": expected a JSON object");
  config::RunConfig rc;
  auto str = [&](const char* key) -> std::string {
    if (!j.contains(key) || !j[key].is_string()) throw ConfigError(path + ": key '" + key + "': expected a string");
    return j[key].get<std::string>();
  };
  rc.sweep = str("sweep");
  rc.name = str("name");
  rc.preset = str("preset");
  rc.scale = str("scale");
  rc.model.name = rc.preset;  // the spec's name is the preset's (arch::resolve_preset)
  for (const auto& sec : config::config_sections()) {
    if (!j.contains(sec) || !j[sec].is_object()) throw ConfigError(path + ": section '" + sec + "': expected an object");
    for (const auto& [key, value] : j[sec].items()) {
      const std::string where = path + ": key '" + sec + "." + key + "'";
      config::assign(rc, {sec + "." + key, to_value(value, where), path});
    }
  }
  std::string again = rc.canonical_json();
  std::string want = text;
  while (!want.empty() && (want.back() == '\n' || want.back() == ' ')) want.pop_back();
  if (again != want) throw ConfigError(path + ": does not read back to the same config (written by another version?)");
  return rc;
}

config::RunConfig load_run_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read (expected a run directory's config.json)");
  std::stringstream ss;
  ss << in.rdbuf();
  return run_config_from_json(ss.str(), path);
}

}  // namespace sharelab::train
