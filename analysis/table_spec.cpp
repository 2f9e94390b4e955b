// Strict reading of experiments/*.toml table definitions with toml++.
#include "analysis/table_spec.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/errors.h"

namespace sharelab::analysis {

namespace {

std::string where(const std::string& path, const toml::node& n) {
  const auto& s = n.source().begin;
  return path + ":" + std::to_string(s.line) + ":" + std::to_string(s.column);
}

// Typed access that records which keys were read, so leftovers can be reported as unknown.
class Reader {
 public:
  Reader(const std::string& path, const toml::table& t, std::string section)
      : path_(path), t_(t), section_(std::move(section)) {}

  template <class T>
  void get(const char* key, T& out, bool required = false) {
    seen_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) {
      if (required) throw ConfigError(where(path_, t_) + ": " + section_ + "." + key + ": missing (required)");
      return;
    }
    if constexpr (std::is_same_v<T, std::string>) {
      if (!n->is_string()) fail(*n, key, "a string");
      out = **n->as_string();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!n->is_boolean()) fail(*n, key, "true or false");
      out = **n->as_boolean();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!n->is_number()) fail(*n, key, "a number");
      out = T(n->value<double>().value());
    } else if constexpr (std::is_integral_v<T>) {
      if (!n->is_integer()) fail(*n, key, "an integer");
      out = T(**n->as_integer());
    } else {  // std::vector<std::string>
      const toml::array* a = n->as_array();
      if (!a) fail(*n, key, "an array of strings");
      out.clear();
      for (const auto& e : *a) {
        if (!e.is_string()) fail(e, key, "an array of strings");
        out.push_back(**e.as_string());
      }
    }
  }

  void finish() const {
    for (const auto& [k, v] : t_)
      if (!seen_.count(std::string(k.str()))) {
        std::string known;
        for (const auto& s : seen_) known += (known.empty() ? "" : ", ") + s;
        throw ConfigError(where(path_, v) + ": " + section_ + "." + std::string(k.str()) +
                          ": unknown key (known: " + known + ")");
      }
  }

 private:
  [[noreturn]] void fail(const toml::node& n, const char* key, const char* expected) const {
    throw ConfigError(where(path_, n) + ": " + section_ + "." + key + ": expected " + expected);
  }
  const std::string& path_;
  const toml::table& t_;
  std::string section_;
  std::set<std::string> seen_;
};

const toml::array& array_of_tables(const std::string& path, const toml::table& root, const char* key) {
  static const toml::array kEmpty;
  const toml::node* n = root.get(key);
  if (!n) return kEmpty;
  const toml::array* a = n->as_array();
  if (!a || !a->is_array_of_tables())
    throw ConfigError(where(path, *n) + ": " + key + ": expected [[" + key + "]] tables");
  return *a;
}

}  // namespace

TableSpec load_table_spec(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& s = e.source().begin;
    throw ConfigError(path + ":" + std::to_string(s.line) + ":" + std::to_string(s.column) + ": " +
                      std::string(e.description()));
  }
  TableSpec spec;
  spec.path = path;
  const toml::table* meta = root["table"].as_table();
  if (!meta) throw ConfigError(path + ":1:1: missing [table] section");
  Reader m(path, *meta, "table");
  m.get("id", spec.id, true);
  m.get("title", spec.title, true);
  m.get("source", spec.source, true);
  m.get("order", spec.order);
  m.get("first_column", spec.first_column);
  m.get("notes", spec.notes);
  m.finish();

  for (const auto& node : array_of_tables(path, root, "column")) {
    ColumnSpec c;
    Reader r(path, *node.as_table(), "column");
    r.get("label", c.label, true);
    r.get("value", c.value, true);
    r.get("paper", c.paper);
    r.get("format", c.format);
    r.get("decimals", c.decimals);
    r.get("scale", c.scale);
    r.get("accelerator", c.accelerator);
    r.get("tokens", c.tokens);
    r.get("devices", c.devices);
    r.get("seq", c.seq);
    r.get("mfu", c.mfu);
    r.get("tokens_per_s", c.tokens_per_s);
    r.finish();
    static const std::set<std::string> kFormats = {"fixed", "count", "billions", "thousands",
                                                   "days",  "gb",    "int",      "text"};
    if (!kFormats.count(c.format))
      throw ConfigError(where(path, node) + ": column.format '" + c.format +
                        "': expected fixed, count, billions, thousands, days, gb, int or text");
    const std::string kind = c.value.substr(0, c.value.find(':'));
    static const std::set<std::string> kKinds = {"eval", "scalar", "mean", "spec", "project", "profile"};
    if (!kKinds.count(kind) || c.value.find(':') == std::string::npos)
      throw ConfigError(where(path, node) + ": column.value '" + c.value +
                        "': expected eval:, scalar:, mean:, spec:, project: or profile:");
    spec.columns.push_back(c);
  }
  const size_t n_paper =
      size_t(std::count_if(spec.columns.begin(), spec.columns.end(), [](auto& c) { return c.paper; }));

  for (const auto& node : array_of_tables(path, root, "row")) {
    RowSpec row;
    Reader r(path, *node.as_table(), "row");
    r.get("label", row.label, true);
    r.get("match", row.match);
    r.get("preset", row.preset);
    r.get("dtype", row.dtype);
    r.get("set", row.set);
    r.get("paper", row.paper);
    r.finish();
    if (row.match.empty()) row.match = row.label;
    if (row.preset.empty()) row.preset = row.match;
    if (row.paper.empty()) row.paper.assign(n_paper, "");
    if (row.paper.size() != n_paper)
      throw ConfigError(where(path, node) + ": row '" + row.label + "': paper has " + std::to_string(row.paper.size()) +
                        " values, expected " + std::to_string(n_paper) + " (one per column with paper = true)");
    spec.rows.push_back(row);
  }
  for (const auto& [k, v] : root)
    if (k != "table" && k != "column" && k != "row")
      throw ConfigError(where(path, v) + ": " + std::string(k.str()) + ": unknown section (known: table, column, row)");
  return spec;
}

std::vector<TableSpec> load_table_specs(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) throw ConfigError("--experiments '" + dir + "': not a directory");
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".toml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<TableSpec> specs;
  for (const auto& f : files) specs.push_back(load_table_spec(f));
  std::stable_sort(specs.begin(), specs.end(), [](const TableSpec& a, const TableSpec& b) {
    return a.order != b.order ? a.order < b.order : a.id < b.id;
  });
  return specs;
}

}  // namespace sharelab::analysis
