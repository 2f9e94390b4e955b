// TOML -> config values and `--set` flags (see toml_value.h).
#include "runner/config/toml_value.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "common/toml_reader.h"
#include "runner/config/config_fields.h"

namespace sharelab::config {

Value value_from_toml(const toml::node& n, const std::string& where, const std::string& key) {
  if (auto x = n.as_integer()) return Value::integer(x->get());
  if (auto f = n.as_floating_point()) return Value::number(f->get());
  if (auto b = n.as_boolean()) return Value::boolean(b->get());
  if (auto s = n.as_string()) return Value::string(s->get());
  const toml::array* a = n.as_array();
  if (!a) throw config_error(where, key, "expected a number, boolean, string or list of strings, got " + toml_describe(n));
  std::vector<std::string> list;
  for (const auto& el : *a) {
    if (!el.is_string()) throw config_error(where, key, "expected a list of strings, got " + toml_describe(el) + " in it");
    list.push_back(el.as_string()->get());
  }
  return Value::strings(std::move(list));
}

void check_key(const std::string& where, const std::string& path) {
  if (is_known_key(path)) return;
  const std::string sec = path.substr(0, path.find('.'));
  const auto& secs = config_sections();
  if (std::find(secs.begin(), secs.end(), sec) == secs.end())
    throw config_error(where, path, fmt::format("unknown section '{}' (known: {})", sec, fmt::join(secs, ", ")));
  throw config_error(where, path, "unknown key (known: " + section_keys(sec) + ")");
}

Assignment parse_set(const std::string& assignment) {
  const std::string where = "--set " + assignment;
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(where + ": expected section.key=value, e.g. train.lr=1e-3");
  Assignment a;
  a.path = assignment.substr(0, eq);
  a.where = where;
  check_key(where, a.path);
  const std::string text = assignment.substr(eq + 1);
  try {
    const toml::table t = toml::parse("v = " + text, std::string_view("--set"));
    a.value = value_from_toml(*t.get("v"), where, a.path);
  } catch (const toml::parse_error&) {
    a.value = Value::string(text);  // a bare word: --set model.scheme=shared-ffn
  }
  return a;
}

}  // namespace sharelab::config
