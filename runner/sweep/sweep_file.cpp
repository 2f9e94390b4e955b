// TOML -> located assignments, for sweep files (with their extends chain), --set flags and
// scale profiles. Only structure and key names are checked here; types are checked on apply.
#include "runner/sweep/sweep_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/errors.h"
#include "runner/config/config_fields.h"
#include "runner/config/toml_value.h"

namespace sharelab::sweep {

namespace fs = std::filesystem;

namespace {

std::string loc(const std::string& file, const toml::source_region& r) {
  return file + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

[[noreturn]] void fail_at(const std::string& where, const std::string& key, const std::string& what) {
  throw ConfigError(where + ": key '" + key + "': " + what);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

toml::table parse_toml_file(const std::string& path) {
  if (!fs::is_regular_file(path)) throw ConfigError(path + ": no such sweep or profile file");
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(loc(path, e.source()) + ": TOML syntax error: " + std::string(e.description()));
  }
}

// The keys of one section table as assignments "section.key", in file order of appearance.
void read_section(const std::string& file, const std::string& section, const toml::table& t,
                  std::vector<Assignment>& out) {
  for (auto&& [k, v] : t) {
    const std::string path = section + "." + std::string(k.str());
    const std::string where = loc(file, k.source());
    config::check_key(where, path);  // also rejects sub-tables: no section has any
    out.push_back({path, config::value_from_toml(v, where, path), where});
  }
}

bool is_section(const std::string& k) {
  const auto& s = config::config_sections();
  return std::find(s.begin(), s.end(), k) != s.end();
}

RunEntry read_run(const std::string& file, const toml::table& t, const std::string& kind) {
  RunEntry r;
  r.where = loc(file, t.source());
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    const std::string where = loc(file, k.source());
    if (key == "name") {
      if (!v.is_string()) fail_at(where, kind + ".name", "expected a string");
      r.name = v.as_string()->get();
    } else if (is_section(key) && v.is_table()) {
      read_section(file, key, *v.as_table(), r.set);
    } else if (is_section(key)) {
      fail_at(where, kind + "." + key, "expected a table of overrides, e.g. " + key + ".KEY = VALUE");
    } else {
      fail_at(where, kind + "." + key, "unknown key (known: name, " + join(config::config_sections()) + ")");
    }
  }
  if (r.name.empty()) fail_at(r.where, kind + ".name", "every [[" + kind + "]] needs a name");
  return r;
}

// [grid]: quoted dotted keys ("model.scheme" = [...]) or nested tables (model.scheme = [...]).
void read_grid(const std::string& file, const toml::table& t, const std::string& prefix, std::vector<GridAxis>& out) {
  for (auto&& [k, v] : t) {
    const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const std::string where = loc(file, k.source());
    if (v.is_table() && !config::is_known_key(path)) {
      read_grid(file, *v.as_table(), path, out);
      continue;
    }
    config::check_key(where, path);
    const toml::array* a = v.as_array();
    if (!a || a->empty()) fail_at(where, "grid." + path, "expected a non-empty list of alternatives");
    GridAxis ax{path, {}, where};
    for (const auto& el : *a) ax.values.push_back(config::value_from_toml(el, where, "grid." + path));
    out.push_back(std::move(ax));
  }
}

void read_file_into(const std::string& path, SweepFile& sf, std::vector<std::string>& visiting, bool is_root) {
  const std::string canon = fs::weakly_canonical(path).string();
  if (std::find(visiting.begin(), visiting.end(), canon) != visiting.end())
    throw ConfigError(path + ": extends cycle: " + join(visiting) + " -> " + canon);
  visiting.push_back(canon);
  const toml::table t = parse_toml_file(path);

  // The base goes first so that this file's values override it.
  if (auto meta = t["meta"].as_table()) {
    if (auto ext = (*meta)["extends"].as_string()) {
      const fs::path base = fs::path(path).parent_path() / ext->get();
      if (!fs::is_regular_file(base))
        fail_at(loc(path, ext->source()), "meta.extends", "no such file '" + base.string() + "'");
      read_file_into(base.string(), sf, visiting, false);
    }
  }
  sf.chain.push_back(path);

  std::vector<RunEntry> runs;
  std::vector<GridAxis> grid;
  bool has_runs = false, has_grid = false;
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    const std::string where = loc(path, k.source());
    if (key == "meta") {
      if (!v.is_table()) fail_at(where, key, "expected a table");
      for (auto&& [mk, mv] : *v.as_table()) {
        const std::string m(mk.str());
        const std::string mwhere = loc(path, mk.source());
        if (m != "name" && m != "question" && m != "extends" && m != "description" && m != "scale")
          fail_at(mwhere, "meta." + m, "unknown key (known: name, question, extends, description, scale)");
        if (!mv.is_string()) fail_at(mwhere, "meta." + m, "expected a string");
        if (m == "name" && is_root) sf.name = mv.as_string()->get();
        if (m == "question" && is_root) sf.question = mv.as_string()->get();
        if (m == "scale") {  // [meta] scale = "cpu" and a top-level scale = "cpu" are the same key
          sf.scale = mv.as_string()->get();
          sf.scale_where = mwhere;
        }
      }
    } else if (key == "scale") {
      if (!v.is_string()) fail_at(where, key, "expected a profile name, e.g. scale = \"cpu\"");
      sf.scale = v.as_string()->get();
      sf.scale_where = where;
    } else if (is_section(key)) {
      if (!v.is_table()) fail_at(where, key, "expected a table [" + key + "]");
      read_section(path, key, *v.as_table(), sf.top);
    } else if (key == "run" || key == "variant") {
      const toml::array* a = v.as_array();
      if (!a || !a->is_array_of_tables()) fail_at(where, key, "expected [[" + key + "]] tables");
      for (const auto& el : *a) runs.push_back(read_run(path, *el.as_table(), key));
      has_runs = true;
    } else if (key == "grid") {
      if (!v.is_table()) fail_at(where, key, "expected a table [grid]");
      read_grid(path, *v.as_table(), "", grid);
      has_grid = true;
    } else {
      fail_at(where, key, "unknown key (known: meta, scale, " + join(config::config_sections()) + ", run, variant, grid)");
    }
  }
  // [[run]] sorts before [[variant]] in toml++'s key order; both lists keep their file order.
  if (has_runs) sf.runs = std::move(runs);
  if (has_grid) sf.grid = std::move(grid);
  visiting.pop_back();
}

}  // namespace

SweepFile load_sweep(const std::string& path) {
  SweepFile sf;
  sf.path = path;
  std::vector<std::string> visiting;
  read_file_into(path, sf, visiting, true);
  if (sf.name.empty()) sf.name = fs::path(path).stem().string();
  std::set<std::string> names;
  for (const auto& r : sf.runs)
    if (!names.insert(r.name).second) fail_at(r.where, "run.name", "run name '" + r.name + "' is used twice");
  return sf;
}

ScaleProfile load_profile(const std::string& name, const std::string& sweep_path, const std::string& where) {
  ScaleProfile p;
  if (name.empty() || name == "paper") return p;
  std::vector<fs::path> candidates;
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0) {
    candidates.push_back(fs::path(sweep_path).parent_path() / name);
    candidates.push_back(name);
  } else {
    candidates.push_back(fs::path(sweep_path).parent_path() / "profiles" / (name + ".toml"));
    candidates.push_back(fs::path("configs") / "profiles" / (name + ".toml"));
  }
  for (const auto& c : candidates)
    if (fs::is_regular_file(c)) {
      p.path = c.string();
      break;
    }
  if (p.path.empty()) {
    std::string tried;
    for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c.string();
    throw ConfigError(where + ": scale profile '" + name + "' not found (tried " + tried + "; 'paper' = none)");
  }
  p.name = fs::path(p.path).stem().string();
  const toml::table t = parse_toml_file(p.path);
  // What a profile may never touch: depth and the sharing pattern (and the preset choosing them).
  static const std::set<std::string> kFrozen = {"model.preset", "model.n_layers", "model.scheme", "model.repeats",
                                               "model.unique_blocks", "model.tie_embeddings", "model.d_model",
                                               "model.n_heads", "model.n_kv_heads", "model.ffn_dim"};
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    const std::string kwhere = loc(p.path, k.source());
    if (key == "meta") {
      if (auto d = v.as_table() ? (*v.as_table())["description"].as_string() : nullptr) p.description = d->get();
    } else if (key == "scale") {
      if (!v.is_table()) fail_at(kwhere, key, "expected a table [scale]");
      for (auto&& [sk, sv] : *v.as_table()) {
        const std::string s(sk.str());
        const std::string swhere = loc(p.path, sk.source());
        if (s == "width") {
          if (!sv.is_number()) fail_at(swhere, "scale.width", "expected a number in (0, 1]");
          p.width = sv.value<double>().value_or(0);
          if (!(p.width > 0 && p.width <= 1)) fail_at(swhere, "scale.width", "expected a number in (0, 1]");
        } else if (s == "head_dim") {
          if (!sv.is_integer() || sv.as_integer()->get() < 2 || sv.as_integer()->get() % 2)
            fail_at(swhere, "scale.head_dim", "expected an even integer >= 2");
          p.head_dim = sv.as_integer()->get();
        } else {
          fail_at(swhere, "scale." + s, "unknown key (known: width, head_dim)");
        }
      }
    } else if (is_section(key)) {
      if (!v.is_table()) fail_at(kwhere, key, "expected a table [" + key + "]");
      std::vector<Assignment> sec;
      read_section(p.path, key, *v.as_table(), sec);
      for (const auto& a : sec)
        if (kFrozen.count(a.path))
          fail_at(a.where, a.path,
                  "a scale profile never changes depth, width by hand or the sharing pattern "
                  "(width comes from [scale] width)");
      p.set.insert(p.set.end(), sec.begin(), sec.end());
    } else {
      fail_at(kwhere, key, "unknown key (known: meta, scale, " + join(config::config_sections()) + ")");
    }
  }
  return p;
}

}  // namespace sharelab::sweep
