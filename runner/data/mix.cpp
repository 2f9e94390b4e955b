// Mix TOML reading (common/toml_reader.h): unknown keys are errors (a typo must not silently drop
// a source).
#include "runner/data/mix.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <glob.h>

#include <algorithm>
#include <limits>
#include <set>

#include "common/toml_reader.h"
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

std::string resolve(const std::string& dir, const std::string& p) {
  return p.empty() || p[0] == '/' ? p : dir + "/" + p;
}

// [mix]: every key optional.
void read_settings(TomlReader& m, const std::string& dir, Mix& mix) {
  if (auto v = m.integer("seq_len", 1)) mix.seq_len = *v;
  if (auto v = m.number("val_fraction")) {
    if (!(*v >= 0 && *v < 1)) m.fail_expected("val_fraction", "a number in [0, 1)");
    mix.val_fraction = *v;
  }
  if (auto v = m.integer("chunk_bytes", 256)) mix.chunk_bytes = *v;
  if (auto v = m.string("tokenizer")) mix.tokenizer = resolve(dir, *v);
  if (auto v = m.integer("vocab_size", 1, std::numeric_limits<int32_t>::max())) mix.vocab_size = int32_t(*v);
  if (auto v = m.string("model_type")) {
    if (*v != "bpe" && *v != "unigram") m.fail_expected("model_type", "\"bpe\" or \"unigram\"");
    mix.model_type = *v;
  }
  m.finish();
}

// One [[source]]: its fields, then the files its path matches. `names`: the earlier sources'.
MixSource read_source(TomlReader& t, const std::string& dir, std::set<std::string>& names, bool match_files) {
  MixSource s;
  s.name = t.required_string("name");
  s.path = t.required_string("path");
  s.reader = t.required_string("reader");
  if (auto w = t.number("weight")) {
    if (!(*w >= 0)) t.fail_expected("weight", "a number >= 0");
    s.weight = *w;
  }
  t.finish();
  if (!names.insert(s.name).second) t.fail("name", "'" + s.name + "' is used by an earlier [[source]]");
  const auto& readers = known_readers();
  if (std::find(readers.begin(), readers.end(), s.reader) == readers.end())
    t.fail_expected("reader", fmt::format("one of {}", fmt::join(readers, ", ")));
  if (!match_files) return s;
  const std::string pattern = resolve(dir, s.path);
  glob_t g{};
  if (::glob(pattern.c_str(), GLOB_BRACE, nullptr, &g) == 0)
    for (size_t k = 0; k < g.gl_pathc; ++k) s.files.emplace_back(g.gl_pathv[k]);
  ::globfree(&g);
  if (s.files.empty())
    t.fail("path",
           fmt::format("no file matches '{}' (source '{}'; run `make setup` for the default corpus)", pattern, s.name));
  std::sort(s.files.begin(), s.files.end());
  return s;
}

// The mix of a parsed file; `sha256` of its bytes.
Mix mix_from_toml(const toml::table& doc, const std::string& path, std::string sha256, bool match_files) {
  Mix mix;
  mix.file = path;
  mix.sha256 = std::move(sha256);
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);

  TomlReader root(path, doc, "");
  if (auto m = root.table("mix")) read_settings(*m, dir, mix);
  auto sources = root.tables("source");
  root.finish();
  if (sources.empty()) root.fail("source", "missing, expected at least one [[source]] table");
  if (sources.size() > 65535) root.fail("source", "more than 65535 sources");
  std::set<std::string> names;
  for (TomlReader& t : sources) mix.sources.push_back(read_source(t, dir, names, match_files));
  return mix;
}

}  // namespace

Mix load_mix(const std::string& path) {
  const toml::table doc = parse_toml_file(path);
  return mix_from_toml(doc, path, sha256_file(path), true);
}

Mix parse_mix(const std::string& text, const std::string& path, bool match_files) {
  const toml::table doc = parse_toml_text(text, path);
  return mix_from_toml(doc, path, sha256_hex(text), match_files);
}

}  // namespace sharelab::data
