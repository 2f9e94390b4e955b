// Tables of rows that have a `name` (presets, sharing schemes, eval tasks, accelerators): their names
// and lookup by name, with one error message for an unknown name.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

#include "common/errors.h"

namespace sharelab {

template <typename Row>
std::string names_of(const std::vector<Row>& rows) {  // "a, b, c"
  std::vector<std::string> names;
  for (const auto& r : rows) names.push_back(r.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// Throws ConfigError "unknown <what> 'x'; known: a, b, c".
template <typename Row>
const Row& find_named(const std::vector<Row>& rows, const std::string& name, const char* what) {
  for (const auto& r : rows)
    if (name == r.name) return r;
  throw ConfigError(fmt::format("unknown {} '{}'; known: {}", what, name, names_of(rows)));
}

}  // namespace sharelab
