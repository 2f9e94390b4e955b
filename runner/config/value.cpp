// Printing of sweep values, for error messages and generated run names.
#include "runner/config/value.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

namespace sharelab::config {

namespace {
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

std::string Value::text() const {
  switch (kind) {
    case Kind::kInt: return std::to_string(i);
    case Kind::kFloat: return num(f);
    case Kind::kBool: return b ? "true" : "false";
    case Kind::kString: return s;
    case Kind::kStringList: return fmt::format("[{}]", fmt::join(list, ", "));
  }
  return "";
}

std::string Value::describe() const {
  switch (kind) {
    case Kind::kInt: return "integer " + text();
    case Kind::kFloat: return "float " + text();
    case Kind::kBool: return "boolean " + text();
    case Kind::kString: return "string \"" + s + "\"";
    case Kind::kStringList: return "list " + text();
  }
  return "";
}

}  // namespace sharelab::config
