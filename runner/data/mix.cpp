// Mix TOML parsing with toml++: unknown keys are errors (a typo must not silently drop a source).
#include "runner/data/mix.h"

#include <fmt/format.h>
#include <glob.h>

#include <toml++/toml.h>
#include <algorithm>
#include <set>

#include "common/errors.h"
#include "runner/data/sha256.h"

namespace sharelab::data {

const std::vector<std::string>& known_readers() {
  static const std::vector<std::string> r = {"text", "jsonl-text", "brown-tagged", "amber-jsonl"};
  return r;
}

bool Mix::has_text_sources() const {
  return std::any_of(sources.begin(), sources.end(), [](const MixSource& s) { return s.reader != "amber-jsonl"; });
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

int line_of(const toml::node& n) {
  return int(n.source().begin.line);
}

void check_keys(const toml::table& t, const std::set<std::string>& known, const std::string& path,
                const std::string& where) {
  for (const auto& [k, v] : t) {
    if (!known.count(std::string(k.str()))) {
      std::vector<std::string> names(known.begin(), known.end());
      throw ConfigError(
          fmt::format("{}:{}: unknown key '{}{}' (known: {})", path, line_of(v), where, k.str(), join(names)));
    }
  }
}

std::string resolve(const std::string& dir, const std::string& p) {
  return p.empty() || p[0] == '/' ? p : dir + "/" + p;
}

}  // namespace

Mix load_mix(const std::string& path) {
  Mix mix;
  mix.file = path;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const bool missing = e.source().begin.line == 0 || std::string(e.description()).find("open") != std::string::npos;
    if (missing) throw ConfigError(path + ": cannot read mix file");
    throw ConfigError(
        fmt::format("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column, e.description()));
  }
  mix.sha256 = sha256_file(path);
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  check_keys(root, {"mix", "source"}, path, "");

  if (const toml::table* m = root["mix"].as_table()) {
    check_keys(*m, {"seq_len", "val_fraction", "chunk_bytes", "tokenizer", "vocab_size", "model_type"}, path, "mix.");
    auto need = [&](const char* key, bool ok, const char* what) {
      if (!ok) throw ConfigError(fmt::format("{}:{}: mix.{} must be {}", path, line_of(*m->get(key)), key, what));
    };
    if (auto v = m->get("seq_len")) {
      need("seq_len", v->is_integer() && v->as_integer()->get() > 0, "a positive integer");
      mix.seq_len = v->as_integer()->get();
    }
    if (auto v = m->get("val_fraction")) {
      const double f = v->is_integer()          ? double(v->as_integer()->get())
                       : v->is_floating_point() ? v->as_floating_point()->get()
                                                : -1;
      need("val_fraction", f >= 0 && f < 1, "a number in [0, 1)");
      mix.val_fraction = f;
    }
    if (auto v = m->get("chunk_bytes")) {
      need("chunk_bytes", v->is_integer() && v->as_integer()->get() >= 256, "an integer >= 256 (bytes)");
      mix.chunk_bytes = v->as_integer()->get();
    }
    if (auto v = m->get("tokenizer")) {
      need("tokenizer", v->is_string(), "a path string");
      mix.tokenizer = resolve(dir, v->as_string()->get());
    }
    if (auto v = m->get("vocab_size")) {
      need("vocab_size", v->is_integer() && v->as_integer()->get() > 0 && v->as_integer()->get() <= (1ll << 31) - 1,
           "a positive integer");
      mix.vocab_size = int32_t(v->as_integer()->get());
    }
    if (auto v = m->get("model_type")) {
      need("model_type", v->is_string() && (v->as_string()->get() == "bpe" || v->as_string()->get() == "unigram"),
           "\"bpe\" or \"unigram\"");
      mix.model_type = v->as_string()->get();
    }
  }

  const toml::array* srcs = root["source"].as_array();
  if (!srcs || srcs->empty()) throw ConfigError(path + ": no [[source]] tables (a mix needs at least one source)");
  std::set<std::string> names;
  for (size_t i = 0; i < srcs->size(); ++i) {
    const toml::table* t = srcs->get(i)->as_table();
    if (!t) throw ConfigError(fmt::format("{}: source[{}] must be a table ([[source]])", path, i));
    MixSource s;
    s.line = line_of(*t);
    const std::string where = fmt::format("{}:{}: [[source]] #{}", path, s.line, i + 1);
    check_keys(*t, {"name", "path", "reader", "weight"}, path, "source.");
    auto str = [&](const char* key) {
      auto v = t->get(key);
      if (!v || !v->is_string()) throw ConfigError(fmt::format("{}: field '{}' must be a string", where, key));
      return v->as_string()->get();
    };
    s.name = str("name");
    s.path = str("path");
    s.reader = str("reader");
    if (!names.insert(s.name).second) throw ConfigError(fmt::format("{}: duplicate source name '{}'", where, s.name));
    const auto& readers = known_readers();
    if (std::find(readers.begin(), readers.end(), s.reader) == readers.end())
      throw ConfigError(fmt::format("{}: field 'reader' = '{}'; known: {}", where, s.reader, join(readers)));
    if (auto v = t->get("weight")) {
      const double w = v->is_integer()          ? double(v->as_integer()->get())
                       : v->is_floating_point() ? v->as_floating_point()->get()
                                                : -1;
      if (!(w >= 0)) throw ConfigError(fmt::format("{}: field 'weight' must be a number >= 0", where));
      s.weight = w;
    }
    const std::string pattern = resolve(dir, s.path);
    glob_t g{};
    if (::glob(pattern.c_str(), GLOB_BRACE, nullptr, &g) == 0)
      for (size_t k = 0; k < g.gl_pathc; ++k) s.files.emplace_back(g.gl_pathv[k]);
    ::globfree(&g);
    if (s.files.empty())
      throw ConfigError(
          fmt::format("{}: field 'path': no file matches '{}' (source '{}'; run `make setup` for the "
                      "default corpus)",
                      where, pattern, s.name));
    std::sort(s.files.begin(), s.files.end());
    mix.sources.push_back(std::move(s));
  }
  if (mix.sources.size() > 65535) throw ConfigError(path + ": more than 65535 sources");
  return mix;
}

}  // namespace sharelab::data
