// The one way configs are read from TOML (sweep files, scales, data mixes, table definitions):
// parse a file, read each table with typed getters and strict keys, and report every mistake as
// one ConfigError in one format: "FILE:LINE:COL: section.key: what was expected". An unknown key
// points at the key, a bad value at the value.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"

namespace sharelab {

// The message format every config reader shares: "WHERE: KEY: WHAT", WHERE being FILE:LINE:COL
// or a flag ("--set train.lr=x").
ConfigError config_error(const std::string& where, const std::string& key, const std::string& what);

// "FILE:LINE:COL" of a key or a value.
std::string toml_where(const std::string& file, const toml::source_region& r);

// A value as messages print it after "got": string "x", integer 3, float 0.5, boolean true,
// array ["a", 2], table.
std::string toml_describe(const toml::node& n);

// Parses PATH. ConfigError "PATH: no such file" or "PATH:LINE:COL: TOML syntax error: ...".
toml::table parse_toml_file(const std::string& path);
// Parses TEXT as the contents of PATH (the same errors, minus "no such file"): for readers that
// hash or fuzz the bytes they parse.
toml::table parse_toml_text(std::string_view text, const std::string& path);

// One table of one file, read strictly. Each getter records its key as known and returns nothing
// for an absent key; a present key of the wrong type or out of range throws at once. finish()
// then throws for the first key no getter asked for (listing the known ones), or else for a
// missing required key: call it before using what was read.
class TomlReader {
 public:
  // `section` prefixes keys in messages ("column" -> "column.label"); "" for a file's root.
  TomlReader(std::string file, const toml::table& table, std::string section);

  std::optional<std::string> string(const std::string& key);
  std::string required_string(const std::string& key);  // "" when missing (finish() reports it)
  std::optional<int64_t> integer(const std::string& key, int64_t min = std::numeric_limits<int64_t>::min(),
                                 int64_t max = std::numeric_limits<int64_t>::max());
  std::optional<double> number(const std::string& key);  // an integer or a float
  std::optional<bool> boolean(const std::string& key);
  std::optional<std::vector<std::string>> strings(const std::string& key);
  std::optional<TomlReader> table(const std::string& key);  // [key] or key = { ... }
  std::vector<TomlReader> tables(const std::string& key);   // the [[key]] tables, none when absent

  void finish() const;

  // "WHERE: section.key: WHAT" at the key's value (at the table when the key is absent).
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  // fail(key, "expected WHAT, got <the value>"), or without "got" for an absent key.
  [[noreturn]] void fail_expected(const std::string& key, const std::string& what) const;

  std::string where(const std::string& key) const;  // FILE:LINE:COL of the key's value, else of the table
  const std::string& file() const { return file_; }
  // The table itself, for walks whose keys are checked elsewhere (sweep sections, the grid).
  const toml::table& toml() const { return *table_; }

 private:
  const toml::node* find(const std::string& key);  // records the key as known
  std::string path_of(const std::string& key) const;

  std::string file_;
  const toml::table* table_;
  std::string section_;
  std::vector<std::string> known_;    // in the order the getters asked
  std::vector<std::string> missing_;  // required keys that are absent
};

}  // namespace sharelab
