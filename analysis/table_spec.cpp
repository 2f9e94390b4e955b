// Strict reading of experiments/*.table.toml table definitions (common/toml_reader.h).
#include "analysis/table_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <climits>
#include <filesystem>

#include "common/toml_reader.h"

namespace sharelab::analysis {

namespace {

// Table definitions end in .table.toml: never taken for a sweep file (configs/*.toml).
const std::string kTableSuffix = ".table.toml";
const std::vector<std::string> kFormats = {"fixed", "count", "billions", "thousands", "days", "gb", "int", "text"};
const std::vector<std::string> kValueKinds = {"eval:", "scalar:", "mean:", "spec:", "project:", "profile:"};

// "a, b or c"
std::string one_of(const std::vector<std::string>& v) {
  return fmt::format("{} or {}", fmt::join(v.begin(), v.end() - 1, ", "), v.back());
}

ColumnSpec read_column(TomlReader& r) {
  ColumnSpec c;
  c.label = r.required_string("label");
  c.value = r.required_string("value");
  c.paper = r.boolean("paper").value_or(c.paper);
  c.format = r.string("format").value_or(c.format);
  c.decimals = int(r.integer("decimals", 0, 17).value_or(c.decimals));
  c.scale = r.number("scale").value_or(c.scale);
  c.accelerator = r.string("accelerator").value_or(c.accelerator);
  c.tokens = r.number("tokens").value_or(c.tokens);
  c.devices = int(r.integer("devices", 1, INT_MAX).value_or(c.devices));
  c.seq = r.integer("seq", 1).value_or(c.seq);
  c.mfu = r.number("mfu").value_or(c.mfu);
  c.tokens_per_s = r.number("tokens_per_s").value_or(c.tokens_per_s);
  c.diff = r.boolean("diff").value_or(c.diff);
  r.finish();
  if (std::find(kFormats.begin(), kFormats.end(), c.format) == kFormats.end())
    r.fail_expected("format", one_of(kFormats));
  const std::string kind = c.value.substr(0, c.value.find(':') + 1);  // "eval:"; "" without a colon
  if (std::find(kValueKinds.begin(), kValueKinds.end(), kind) == kValueKinds.end())
    r.fail_expected("value", one_of(kValueKinds));
  return c;
}

RowSpec read_row(TomlReader& r, size_t n_paper) {
  RowSpec row;
  row.label = r.required_string("label");
  row.match = r.string("match").value_or("");
  row.preset = r.string("preset").value_or("");
  row.dtype = r.string("dtype").value_or("");
  row.set = r.strings("set").value_or(row.set);
  row.paper = r.strings("paper").value_or(row.paper);
  r.finish();
  if (row.match.empty()) row.match = row.label;
  if (row.preset.empty()) row.preset = row.match;
  if (row.paper.empty()) row.paper.assign(n_paper, "");
  if (row.paper.size() != n_paper)
    r.fail("paper", fmt::format("expected {} values (one per column with paper = true), got {} (row '{}')", n_paper,
                                row.paper.size(), row.label));
  return row;
}

const std::vector<std::string> kExpect = {"lower", "higher", "within"};

ClaimSpec read_claim(TomlReader& r) {
  ClaimSpec c;
  c.id = r.required_string("id");
  c.paper = r.required_string("paper");
  c.source = r.required_string("source");
  c.a = r.required_string("a");
  c.b = r.required_string("b");
  c.metric = r.string("metric").value_or(c.metric);
  c.expect = r.required_string("expect");
  c.margin = r.number("margin").value_or(c.margin);
  c.note = r.string("note").value_or("");
  c.where = r.where("id");
  r.finish();
  if (std::find(kExpect.begin(), kExpect.end(), c.expect) == kExpect.end()) r.fail_expected("expect", one_of(kExpect));
  if (c.expect == "within" && !(c.margin > 0)) r.fail_expected("margin", "a number > 0 with expect = \"within\"");
  if (c.a == c.b) r.fail("b", "the same arm as a ('" + c.a + "'): a claim compares two arms");
  return c;
}

}  // namespace

TableSpec load_table_spec(const std::string& path) {
  const toml::table doc = parse_toml_file(path);
  TomlReader root(path, doc, "");
  auto meta = root.table("table");
  auto columns = root.tables("column");
  auto rows = root.tables("row");
  auto claims = root.tables("claim");
  root.finish();
  if (!meta) root.fail("table", "missing, expected a [table] section");

  TableSpec spec;
  spec.path = path;
  spec.id = meta->required_string("id");
  spec.title = meta->required_string("title");
  spec.source = meta->required_string("source");
  spec.order = int(meta->integer("order", INT_MIN, INT_MAX).value_or(spec.order));
  spec.first_column = meta->string("first_column").value_or(spec.first_column);
  spec.notes = meta->strings("notes").value_or(spec.notes);
  spec.reference = meta->string("reference").value_or("");
  meta->finish();

  for (TomlReader& c : columns) spec.columns.push_back(read_column(c));
  const size_t n_paper =
      size_t(std::count_if(spec.columns.begin(), spec.columns.end(), [](const ColumnSpec& c) { return c.paper; }));
  for (TomlReader& r : rows) spec.rows.push_back(read_row(r, n_paper));
  if (!spec.reference.empty() &&
      std::none_of(spec.rows.begin(), spec.rows.end(), [&](const RowSpec& r) { return r.label == spec.reference; }))
    meta->fail("reference", "no row labelled '" + spec.reference + "'");
  for (TomlReader& c : claims) spec.claims.push_back(read_claim(c));
  return spec;
}

std::vector<TableSpec> load_table_specs(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) throw ConfigError("--experiments '" + dir + "': not a directory");
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".toml") continue;
    const std::string name = e.path().filename().string();
    // A plain *.toml here would be skipped silently: say how table definitions are named.
    if (name.size() <= kTableSuffix.size() ||
        name.compare(name.size() - kTableSuffix.size(), kTableSuffix.size(), kTableSuffix) != 0)
      throw ConfigError(e.path().string() + ": table definitions are named NAME" + kTableSuffix +
                        " (sweep files belong in configs/)");
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<TableSpec> specs;
  for (const auto& f : files) specs.push_back(load_table_spec(f));
  std::stable_sort(specs.begin(), specs.end(), [](const TableSpec& a, const TableSpec& b) {
    return a.order != b.order ? a.order < b.order : a.id < b.id;
  });
  return specs;
}

}  // namespace sharelab::analysis
