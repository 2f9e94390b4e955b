// Strict TOML reading with toml++ (see toml_reader.h): positions, "got" descriptions, typed getters.
#include "common/toml_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace sharelab {

ConfigError config_error(const std::string& where, const std::string& key, const std::string& what) {
  return ConfigError(where + ": " + key + ": " + what);
}

std::string toml_where(const std::string& file, const toml::source_region& r) {
  return fmt::format("{}:{}:{}", file, r.begin.line, r.begin.column);
}

namespace {

// A value as written in TOML, strings in double quotes and floats as config values print them.
std::string toml_text(const toml::node& n) {
  if (const auto* s = n.as_string()) return "\"" + s->get() + "\"";
  if (const auto* f = n.as_floating_point()) return fmt::format("{}", f->get());
  if (const auto* a = n.as_array()) {
    std::vector<std::string> items;
    for (const auto& el : *a) items.push_back(toml_text(el));
    return fmt::format("[{}]", fmt::join(items, ", "));
  }
  std::ostringstream out;  // integers, booleans, dates, inline tables
  n.visit([&](const auto& v) { out << v; });
  return out.str();
}

}  // namespace

std::string toml_describe(const toml::node& n) {
  if (n.is_table()) return "table";
  std::ostringstream type;
  if (n.is_floating_point())
    type << "float";  // toml++ says "floating-point"; config values say "float"
  else
    type << n.type();
  return type.str() + " " + toml_text(n);
}

toml::table parse_toml_file(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw ConfigError(path + ": no such file");
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(toml_where(path, e.source()) + ": TOML syntax error: " + std::string(e.description()));
  }
}

toml::table parse_toml_text(std::string_view text, const std::string& path) {
  try {
    return toml::parse(text, std::string_view(path));
  } catch (const toml::parse_error& e) {
    throw ConfigError(toml_where(path, e.source()) + ": TOML syntax error: " + std::string(e.description()));
  }
}

TomlReader::TomlReader(std::string file, const toml::table& table, std::string section)
    : file_(std::move(file)), table_(&table), section_(std::move(section)) {}

const toml::node* TomlReader::find(const std::string& key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  return table_->get(key);
}

std::string TomlReader::path_of(const std::string& key) const {
  return section_.empty() ? key : section_ + "." + key;
}

std::string TomlReader::where(const std::string& key) const {
  const toml::node* n = table_->get(key);
  return toml_where(file_, n ? n->source() : table_->source());
}

void TomlReader::fail(const std::string& key, const std::string& what) const {
  throw config_error(where(key), path_of(key), what);
}

void TomlReader::fail_expected(const std::string& key, const std::string& what) const {
  const toml::node* n = table_->get(key);
  fail(key, "expected " + what + (n ? ", got " + toml_describe(*n) : ""));
}

std::optional<std::string> TomlReader::string(const std::string& key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  if (!n->is_string()) fail_expected(key, "a string");
  return n->as_string()->get();
}

std::string TomlReader::required_string(const std::string& key) {
  if (auto s = string(key)) return *s;
  missing_.push_back(key);
  return "";
}

std::optional<int64_t> TomlReader::integer(const std::string& key, int64_t min, int64_t max) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  constexpr int64_t kLowest = std::numeric_limits<int64_t>::min(), kHighest = std::numeric_limits<int64_t>::max();
  const std::string range = min == kLowest && max == kHighest ? ""
                            : max == kHighest                 ? fmt::format(" >= {}", min)
                            : min == kLowest                  ? fmt::format(" <= {}", max)
                                                              : fmt::format(" in [{}, {}]", min, max);
  if (!n->is_integer() || n->as_integer()->get() < min || n->as_integer()->get() > max)
    fail_expected(key, "an integer" + range);
  return n->as_integer()->get();
}

std::optional<double> TomlReader::number(const std::string& key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  if (!n->is_number()) fail_expected(key, "a number");
  return n->value<double>();
}

std::optional<bool> TomlReader::boolean(const std::string& key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  if (!n->is_boolean()) fail_expected(key, "true or false");
  return n->as_boolean()->get();
}

std::optional<std::vector<std::string>> TomlReader::strings(const std::string& key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  if (!n->is_array()) fail_expected(key, "a list of strings");
  std::vector<std::string> out;
  for (const auto& el : *n->as_array()) {
    if (!el.is_string())
      throw config_error(toml_where(file_, el.source()), path_of(key),
                         "expected a list of strings, got " + toml_describe(el) + " in it");
    out.push_back(el.as_string()->get());
  }
  return out;
}

std::optional<TomlReader> TomlReader::table(const std::string& key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  if (!n->is_table()) fail_expected(key, "a table");
  return TomlReader(file_, *n->as_table(), path_of(key));
}

std::vector<TomlReader> TomlReader::tables(const std::string& key) {
  const toml::node* n = find(key);
  if (!n) return {};
  if (!n->is_array_of_tables()) fail_expected(key, "[[" + path_of(key) + "]] tables");
  std::vector<TomlReader> out;
  for (const auto& el : *n->as_array()) out.emplace_back(file_, *el.as_table(), path_of(key));
  return out;
}

void TomlReader::finish() const {
  for (const auto& [k, v] : *table_)
    if (std::find(known_.begin(), known_.end(), k.str()) == known_.end())
      throw config_error(toml_where(file_, k.source()), path_of(std::string(k.str())),
                         fmt::format("unknown key (known: {})", fmt::join(known_, ", ")));
  if (!missing_.empty()) fail(missing_.front(), "missing, expected a string");
}

}  // namespace sharelab
