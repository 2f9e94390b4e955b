// TOML -> located assignments, for sweep files (with their extends chain) and scales, read with
// common/toml_reader.h. Only structure and key names are checked here; types are checked on apply.
#include "runner/sweep/sweep_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/toml_reader.h"
#include "runner/config/config_fields.h"
#include "runner/config/toml_value.h"

namespace sharelab::sweep {

namespace fs = std::filesystem;

namespace {

// `seeds = [0, 1, 2]`: distinct integers >= 0, as the "train.seed" axis.
GridAxis read_seeds(const std::string& file, const toml::node& v, const std::string& where) {
  const toml::array* a = v.as_array();
  const auto fail = [&] {
    return config_error(toml_where(file, v.source()), "seeds",
                        "expected a non-empty list of distinct integers >= 0, got " + toml_describe(v));
  };
  if (!a || a->empty()) throw fail();
  GridAxis ax{"train.seed", {}, where};
  std::set<int64_t> seen;
  for (const auto& el : *a) {
    const auto i = el.value<int64_t>();
    if (!el.is_integer() || !i || *i < 0 || !seen.insert(*i).second) throw fail();
    ax.values.push_back(Value::integer(*i));
  }
  return ax;
}

// The keys of one section table as assignments "section.key", in key order. An unknown key is
// located at the key, everything else said about an assignment at its value.
void read_section(const std::string& file, const std::string& section, const toml::table& t,
                  std::vector<Assignment>& out, std::optional<GridAxis>* seeds) {
  for (auto&& [k, v] : t) {
    const std::string path = section + "." + std::string(k.str());
    if (path == "train.seeds") {
      const std::string where = toml_where(file, k.source());
      if (!seeds)
        throw config_error(where, path,
                           "only in the sweep's own [train] or [grid], or --seeds (a run with its own seeds could not "
                           "be paired with the others)");
      *seeds = read_seeds(file, v, where);
      continue;
    }
    config::check_key(toml_where(file, k.source()), path);  // also rejects sub-tables: no section has any
    const std::string where = toml_where(file, v.source());
    out.push_back({path, config::value_from_toml(v, where, path), where});
  }
}

// The config sections ([model], [train], ...) of one table, each a table of overrides. `seeds`:
// where a `seeds` list goes (nullptr: not allowed here).
void read_sections(TomlReader& t, std::vector<Assignment>& out, std::optional<GridAxis>* seeds) {
  for (const auto& section : config::config_sections())
    if (auto s = t.table(section)) read_section(t.file(), section, s->toml(), out, seeds);
}

// One [[run]] / [[variant]] table: a name and section overrides (train.lr = ... or train = {...}).
RunEntry read_run(TomlReader& t) {
  RunEntry r;
  r.name = t.required_string("name");
  read_sections(t, r.set, nullptr);
  t.finish();
  r.where = t.where("name");
  return r;
}

// [grid]: quoted dotted keys ("model.scheme" = [...]) or nested tables (model.scheme = [...]).
void read_grid(const std::string& file, const toml::table& t, const std::string& prefix, std::vector<GridAxis>& out) {
  for (auto&& [k, v] : t) {
    const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (path == "seeds" || path == "train.seeds") {  // the seed list is also an axis of the grid
      out.push_back(read_seeds(file, v, toml_where(file, k.source())));
      continue;
    }
    if (v.is_table() && !config::is_known_key(path)) {
      read_grid(file, *v.as_table(), path, out);
      continue;
    }
    config::check_key(toml_where(file, k.source()), path);
    const std::string where = toml_where(file, v.source());
    const toml::array* a = v.as_array();
    if (!a || a->empty())
      throw config_error(where, "grid." + path, "expected a non-empty list of alternatives, got " + toml_describe(v));
    GridAxis ax{path, {}, where};
    for (const auto& el : *a)
      ax.values.push_back(config::value_from_toml(el, toml_where(file, el.source()), "grid." + path));
    out.push_back(std::move(ax));
  }
}

// Reads PATH into `sf`, its base first. `visiting` holds the canonical paths of the chain so far,
// this file's last.
void read_file_into(const std::string& path, SweepFile& sf, std::vector<std::string>& visiting, bool is_root) {
  const toml::table doc = parse_toml_file(path);
  TomlReader root(path, doc, "");

  if (auto meta = root.table("meta")) {
    const auto name = meta->string("name"), question = meta->string("question"), extends = meta->string("extends");
    meta->string("description");               // allowed, for people reading the file
    const auto scale = meta->string("scale");  // [meta] scale = "cpu" and a top-level scale = "cpu" are one key
    meta->finish();
    // The base goes first so that this file's values override it.
    if (extends) {
      const fs::path base = fs::path(path).parent_path() / *extends;
      if (!fs::is_regular_file(base)) meta->fail("extends", "no such file '" + base.string() + "'");
      const std::string canon = fs::weakly_canonical(base).string();
      if (std::find(visiting.begin(), visiting.end(), canon) != visiting.end())
        meta->fail("extends", fmt::format("extends cycle: {} -> {}", fmt::join(visiting, " -> "), canon));
      visiting.push_back(canon);
      read_file_into(base.string(), sf, visiting, false);
      visiting.pop_back();
    }
    if (name && is_root) sf.name = *name;
    if (question && is_root) sf.question = *question;
    if (scale) {
      sf.scale = *scale;
      sf.scale_where = meta->where("scale");
    }
  }
  sf.chain.push_back(path);

  if (auto scale = root.string("scale")) {
    sf.scale = *scale;
    sf.scale_where = root.where("scale");
  }
  read_sections(root, sf.top, &sf.seeds);
  std::vector<RunEntry> runs;
  for (const char* kind : {"run", "variant"})
    for (TomlReader& t : root.tables(kind)) runs.push_back(read_run(t));
  const auto grid = root.table("grid");
  root.finish();
  if (!runs.empty()) sf.runs = std::move(runs);
  if (grid) {
    sf.grid.clear();
    if (sf.seeds_in_grid) sf.seeds.reset();
    sf.seeds_in_grid = false;
    read_grid(path, grid->toml(), "", sf.grid);
  }
  // A seed list in [grid] (written `seeds` or "train.seed") is the sweep's seed axis.
  std::vector<GridAxis> rest;
  for (auto& ax : sf.grid) {
    if (ax.path != "train.seed") {
      rest.push_back(std::move(ax));
      continue;
    }
    if (sf.seeds && sf.seeds->where.rfind(path + ":", 0) == 0)
      throw config_error(ax.where, "seeds", "also given at " + sf.seeds->where + " (give the seed list once)");
    if (sf.seeds_in_grid) throw config_error(ax.where, "seeds", "the seed list is given twice in [grid]");
    sf.seeds = std::move(ax);
    sf.seeds_in_grid = true;
  }
  sf.grid = std::move(rest);
}

}  // namespace

SweepFile load_sweep(const std::string& path) {
  SweepFile sf;
  sf.path = path;
  std::vector<std::string> visiting = {fs::weakly_canonical(path).string()};
  read_file_into(path, sf, visiting, true);
  if (sf.name.empty()) sf.name = fs::path(path).stem().string();
  std::set<std::string> names;
  for (const auto& r : sf.runs)
    if (!names.insert(r.name).second) throw config_error(r.where, "run.name", "'" + r.name + "' is used twice");
  // Expansion builds every point of runs x grid x seeds up front: a product past any sweep one
  // would train is a typo, refused before it takes the machine's memory.
  uint64_t planned = std::max<uint64_t>(1, sf.runs.size());
  std::vector<const GridAxis*> axes;
  for (const auto& ax : sf.grid) axes.push_back(&ax);
  if (sf.seeds) axes.push_back(&*sf.seeds);
  for (const GridAxis* ax : axes) {
    planned *= std::max<uint64_t>(1, ax->values.size());
    if (planned > kMaxPlannedRuns)
      throw config_error(ax->where, ax->path == "train.seed" ? "seeds" : "grid." + ax->path,
                         fmt::format("the sweep expands to more than {} runs", kMaxPlannedRuns));
  }
  return sf;
}

Scale load_scale(const std::string& name, const std::string& sweep_path, const std::string& where) {
  Scale s;
  if (name.empty() || name == "paper") return s;
  std::vector<std::string> candidates;
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0) {
    candidates.push_back((fs::path(sweep_path).parent_path() / name).string());
    candidates.push_back(name);
  } else {
    candidates.push_back((fs::path(sweep_path).parent_path() / "scales" / (name + ".toml")).string());
    candidates.push_back((fs::path("configs") / "scales" / (name + ".toml")).string());
  }
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());  // a sweep in configs/
  for (const auto& c : candidates)
    if (fs::is_regular_file(c)) {
      s.path = c;
      break;
    }
  if (s.path.empty())
    throw config_error(where, "scale",
                       fmt::format("'{}' not found (tried {}; 'paper' = none)", name, fmt::join(candidates, ", ")));
  s.name = fs::path(s.path).stem().string();

  const toml::table doc = parse_toml_file(s.path);
  TomlReader root(s.path, doc, "");
  if (auto meta = root.table("meta")) {
    s.description = meta->string("description").value_or("");
    meta->finish();
  }
  if (auto rule = root.table("scale")) {
    if (auto width = rule->number("width")) {
      if (!(*width > 0 && *width <= 1)) rule->fail_expected("width", "a number in (0, 1]");
      s.width = *width;
    }
    if (auto head_dim = rule->integer("head_dim", 2)) {
      if (*head_dim % 2) rule->fail_expected("head_dim", "an even integer >= 2");
      s.head_dim = *head_dim;
    }
    rule->finish();
  }
  read_sections(root, s.set, nullptr);
  root.finish();
  // What a scale may never touch: depth and the sharing pattern (and the preset choosing them).
  static const std::set<std::string> kFrozen = {
      "model.preset",         "model.n_layers", "model.scheme",  "model.repeats",    "model.unique_blocks",
      "model.tie_embeddings", "model.d_model",  "model.n_heads", "model.n_kv_heads", "model.ffn_dim"};
  for (const auto& a : s.set)
    if (kFrozen.count(a.path))
      throw config_error(a.where, a.path,
                         "a scale never changes depth, width by hand or the sharing pattern (width comes from "
                         "[scale] width)");
  return s;
}

}  // namespace sharelab::sweep
