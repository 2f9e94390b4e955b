// The HTML report page (see html_report.h): one function per section, each appending escaped
// HTML; charts from svg_chart, footnote keys numbered like table.cpp's Markdown (m1, p1, c1).
#include "analysis/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "analysis/stats.h"
#include "analysis/svg_chart.h"

namespace sharelab::analysis {

namespace {

const char* kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; line-height: 1.45; }
nav a { margin-right: 14px; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 2em; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dl.summary dt { font-weight: 600; } dl.summary dd { margin: 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.92em; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #f6f8fa; } td { white-space: nowrap; }
.scroll { overflow-x: auto; max-width: 100%; } td.label, th.label { text-align: left; }
th.paper, td.paper { background: #fbf6e4; font-style: italic; }
td.missing { color: #6e7781; }
sup.fn a { color: #57606a; text-decoration: none; font-size: 0.8em; margin-left: 2px; }
.badge { display: inline-block; border-radius: 10px; padding: 1px 10px; color: #fff; font-size: 0.85em; font-weight: 600; }
.badge.reproduced { background: #1a7f37; } .badge.contradicted { background: #cf222e; }
.badge.inconclusive, .badge.other { background: #6e7781; }
article.finding { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 16px; margin: 12px 0; }
blockquote { margin: 8px 0; padding: 4px 12px; border-left: 4px solid #d0d7de; color: #424a53; }
blockquote footer { font-size: 0.9em; }
.note, .source { color: #57606a; font-size: 0.92em; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 12px 0; }
.kind { font-weight: 600; }
code { font-size: 0.92em; }
figure { margin: 16px 0; }
)";

std::string esc(const std::string& s) {
  return xml_escape(s);
}

// An id fragment from free text: [A-Za-z0-9_-], other bytes as '-'.
std::string slug(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += std::isalnum(c) || c == '_' || c == '-' ? static_cast<char>(c) : '-';
  return out.empty() ? "x" : out;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}


const char* kind_class(const std::string& key) {
  return key[0] == 'm' ? "measured" : key[0] == 'p' ? "projected" : "computed";
}

// One anchor prefix per table: its id, made unique by position when two tables share it.
std::vector<std::string> table_anchors(const std::vector<Table>& tables) {
  std::vector<std::string> out;
  std::set<std::string> used;
  for (size_t i = 0; i < tables.size(); ++i) {
    std::string a = slug(tables[i].id);
    if (!used.insert(a).second) used.insert(a = a + "-" + std::to_string(i + 1));
    out.push_back(a);
  }
  return out;
}

template <typename T>
std::string join(const std::vector<T>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + fmt::format("{}", v[i]);
  return out;
}

std::vector<int64_t> all_seeds(const std::vector<ArmCurves>& curves) {
  std::set<int64_t> s;
  for (const auto& a : curves)
    for (const auto& c : a.seeds) s.insert(c.seed);
  return {s.begin(), s.end()};
}

std::string summary(const ReportInput& in) {
  size_t runs = 0;
  for (const auto& a : in.curves) runs += a.seeds.size();
  std::map<std::string, int> verdicts;
  for (const auto& f : in.findings.tested) ++verdicts[f.verdict];
  std::string o = "<section id=\"summary\">\n<h2>Summary</h2>\n<dl class=\"summary\">\n";
  o += "<dt>Sweep</dt><dd><code>" + esc(in.sweep) + "</code></dd>\n";
  o += "<dt>Database</dt><dd><code>" + esc(in.db_path) + "</code></dd>\n";
  if (!in.question.empty()) o += "<dt>Question</dt><dd>" + esc(in.question) + "</dd>\n";
  o += fmt::format("<dt>Runs</dt><dd>{} finished run(s) with validation curves: {} arm(s), seeds {}</dd>\n", runs,
                   in.curves.size(), in.curves.empty() ? "none" : esc(join(all_seeds(in.curves), ", ")));
  o += fmt::format("<dt>Claims</dt><dd>{} tested ({} reproduced, {} contradicted, {} inconclusive), {} untested</dd>\n",
                   in.findings.tested.size(), verdicts["reproduced"], verdicts["contradicted"],
                   verdicts["inconclusive"], in.findings.untested.size());
  o += fmt::format("<dt>Tables</dt><dd>{}</dd>\n", in.tables.size());
  if (!in.machine.empty()) o += "<dt>Machine</dt><dd>" + esc(in.machine) + "</dd>\n";
  return o + "</dl>\n</section>\n";
}

std::string finding(const Finding& f) {
  const Comparison& c = f.comparison;
  const std::string badge =
      f.verdict == "reproduced" || f.verdict == "contradicted" || f.verdict == "inconclusive" ? f.verdict : "other";
  const std::string a = c.a.name.empty() ? f.claim.a : c.a.name, b = c.b.name.empty() ? f.claim.b : c.b.name;
  std::string expect = f.claim.expect == "within"
                           ? fmt::format("|B − A| ≤ {}", f.claim.margin)
                           : fmt::format("B {} than A", f.claim.expect.empty() ? "?" : f.claim.expect);
  std::string o = fmt::format("<article class=\"finding\">\n<h3><span class=\"badge {}\">{}</span> {}", badge,
                              esc(f.verdict), esc(f.claim.id));
  if (!f.table_id.empty()) o += " <span class=\"note\">(beside table " + esc(f.table_id) + ")</span>";
  o += "</h3>\n<blockquote><p>" + esc(f.claim.paper) + "</p><footer>— <cite>" + esc(f.claim.source) +
       "</cite></footer></blockquote>\n";
  o += "<table class=\"comparison\">\n";
  o += fmt::format("<tr><th class=\"label\">metric</th><td class=\"label\"><code>{}</code>; claimed: {}</td></tr>\n",
                   esc(f.claim.metric), esc(expect));
  o += fmt::format("<tr><th class=\"label\">A: {}</th><td>{}</td></tr>\n", esc(a), esc(format_interval(c.a.interval)));
  o += fmt::format("<tr><th class=\"label\">B: {}</th><td>{}</td></tr>\n", esc(b), esc(format_interval(c.b.interval)));
  o += fmt::format("<tr><th class=\"label\">B − A (paired, 95% t-interval)</th><td>{}</td></tr>\n",
                   c.diff.interval.n ? esc(format_interval(c.diff.interval)) : "no shared seed");
  o += fmt::format("<tr><th class=\"label\">seeds paired</th><td>{}</td></tr>\n",
                   c.diff.seeds.empty() ? "none" : esc(join(c.diff.seeds, ", ")));
  o += "</table>\n<p class=\"reason\">" + esc(f.reason) + "</p>\n";
  if (!f.claim.note.empty()) o += "<p class=\"note\">Note: " + esc(f.claim.note) + "</p>\n";
  return o + "</article>\n";
}

std::string findings(const Findings& f) {
  std::string o = "<section id=\"findings\">\n<h2>Findings: the papers' claims</h2>\n";
  if (f.tested.empty()) o += "<p>No paper claim could be tested with this sweep's finished runs.</p>\n";
  for (const auto& x : f.tested) o += finding(x);
  if (!f.untested.empty()) {
    o += "<h3>Claims not tested by this sweep</h3>\n<ul class=\"untested\">\n";
    for (const auto& u : f.untested) o += "<li>" + esc(u) + "</li>\n";
    o += "</ul>\n";
  }
  return o + "</section>\n";
}

std::string table(const Table& t, const std::string& anchor) {
  Footnotes fn;
  std::vector<bool> paper;
  for (const auto& c : t.columns) paper.push_back(ends_with(c, "(paper)"));
  std::string o = "<figure class=\"paper-table\" id=\"table-" + anchor +
                  "\">\n<div class=\"scroll\">\n<table>\n<caption>Table " + esc(t.id) + ": " + esc(t.title) +
                  "</caption>\n<thead><tr>";
  for (size_t i = 0; i < t.columns.size(); ++i)
    o += fmt::format("<th{}>{}</th>",
                     i == 0     ? " class=\"label\""
                     : paper[i] ? " class=\"paper\""
                                : "",
                     esc(t.columns[i]));
  o += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    o += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      const Cell& cell = row[i];
      const std::string k = fn.key(cell.provenance);
      std::vector<std::string> cls;
      if (i == 0) cls.push_back("label");
      if (i < paper.size() && paper[i]) cls.push_back("paper");
      if (!k.empty()) cls.push_back(kind_class(k));
      if (cell.text == "missing") cls.push_back("missing");
      o += "<td";
      if (!cls.empty()) o += " class=\"" + join(cls, " ") + "\"";
      if (!k.empty()) o += " title=\"" + esc(cell.provenance) + "\"";
      o += ">" + esc(cell.text);
      if (!k.empty()) o += fmt::format("<sup class=\"fn\"><a href=\"#fn-{}-{}\">{}</a></sup>", anchor, k, k);
      o += "</td>";
    }
    o += "</tr>\n";
  }
  o += "</tbody>\n</table>\n</div>\n<figcaption>\n<p class=\"source\">Paper values: " + esc(t.source) + ".</p>\n";
  if (!fn.list.empty())
    o += fmt::format("<p class=\"note\">{} footnote(s): <a href=\"#provenance-{}\">provenance</a>.</p>\n",
                     fn.list.size(), anchor);
  if (!t.notes.empty()) {
    o += "<ul class=\"notes\">\n";
    for (const auto& n : t.notes) o += "<li>" + esc(n) + "</li>\n";
    o += "</ul>\n";
  }
  return o + "</figcaption>\n</figure>\n";
}

std::string tables(const std::vector<Table>& ts) {
  const auto anchors = table_anchors(ts);
  std::string o = "<section id=\"tables\">\n<h2>Tables: the papers' values beside ours</h2>\n";
  o += "<p class=\"note\">Columns marked (paper) hold the paper's numbers as printed; each of our numbers carries a "
       "footnote key (m measured, p projected, c computed) explained under <a href=\"#provenance\">provenance</a>; "
       "hover a cell for its source. ± is the 95% t-interval over seeds, † marks a score at chance.</p>\n";
  if (ts.empty()) o += "<p>No table.</p>\n";
  for (size_t i = 0; i < ts.size(); ++i) o += table(ts[i], anchors[i]);
  return o + "</section>\n";
}

// Wall time: the unit that keeps tick labels short.
std::pair<double, std::string> wall_unit(const std::vector<ArmCurves>& curves) {
  double m = 0;
  for (const auto& a : curves)
    for (const auto& c : a.seeds)
      for (double x : c.wall_s) m = std::max(m, x);
  if (m > 7200) return {3600, "hours"};
  if (m > 120) return {60, "minutes"};
  return {1, "seconds"};
}

std::string arm_label(const ArmCurves& a) {
  return fmt::format("{} ({}{} seed{})", a.arm, a.scheme.empty() ? "" : a.scheme + ", ", a.seeds.size(),
                     a.seeds.size() == 1 ? "" : "s");
}

std::string curves(const std::vector<ArmCurves>& arms) {
  std::string o = "<section id=\"curves\">\n<h2>Validation-loss curves</h2>\n";
  if (arms.empty()) return o + "<p>No finished run of this sweep has validation points.</p>\n</section>\n";
  o += "<p class=\"note\">One colour per arm (sharing scheme): the line is the mean over its seeds, each seed "
       "interpolated linearly on the validation points where every seed has data; the band spans the lowest to the "
       "highest seed there. An arm with one seed shows its line only.</p>\n";
  const auto [div, unit] = wall_unit(arms);
  ChartSpec tok{
      "chart-tokens", "Validation loss vs training tokens", "training tokens", "validation loss (nats per token)", {}};
  ChartSpec wall{"chart-wall",
                 "Validation loss vs wall-clock time",
                 "training wall-clock time (" + unit + ")",
                 "validation loss (nats per token)",
                 {}};
  std::vector<std::string> pro_rata, no_wall;
  for (size_t i = 0; i < arms.size(); ++i) {
    const ArmCurves& a = arms[i];
    ChartSeries st{arm_label(a), static_cast<int>(i), {}}, sw = st;
    for (const auto& c : a.seeds) {
      st.curves.push_back({c.tokens, c.loss});
      if (c.wall_s.size() != c.loss.size()) {
        no_wall.push_back(fmt::format("{} seed {}", a.arm, c.seed));
        continue;
      }
      ChartCurve w{{}, c.loss};
      for (double x : c.wall_s) w.x.push_back(x / div);
      sw.curves.push_back(std::move(w));
      if (c.wall_pro_rata) pro_rata.push_back(fmt::format("{} seed {}", a.arm, c.seed));
    }
    tok.series.push_back(std::move(st));
    if (!sw.curves.empty()) wall.series.push_back(std::move(sw));
  }
  o += svg_line_chart(tok);
  o += svg_line_chart(wall);
  o += "<p class=\"note\">Wall time at each validation point integrates the training throughput the run logged "
       "(tokens / tokens-per-second between training log points).</p>\n";
  if (!pro_rata.empty())
    o += "<p class=\"note pro-rata\">Pro rata wall time (the run's total wall_s scaled by tokens, its log has no "
         "throughput): " +
         esc(join(pro_rata, ", ")) + ".</p>\n";
  if (!no_wall.empty())
    o += "<p class=\"note\">No wall time (neither throughput nor a total): " + esc(join(no_wall, ", ")) +
         "; left out of the wall-clock chart.</p>\n";
  // The last validation point of each seed, as numbers.
  o += "<table class=\"final-loss\">\n<caption>Last validation loss per seed</caption>\n<thead><tr><th class=\"label\">"
       "arm</th><th class=\"label\">scheme</th><th>seed</th><th>tokens</th><th>val loss</th><th class=\"label\">run"
       "</th></tr></thead>\n<tbody>\n";
  for (const auto& a : arms)
    for (const auto& c : a.seeds)
      o += fmt::format(
          "<tr><td class=\"label\">{}</td><td class=\"label\">{}</td><td>{}</td><td>{:.0f}</td>"
          "<td>{:.4f}</td><td class=\"label\"><code>{}</code></td></tr>\n",
          esc(a.arm), esc(a.scheme), c.seed, c.tokens.back(), c.loss.back(), esc(c.run_id));
  return o + "</tbody>\n</table>\n</section>\n";
}

std::string provenance(const ReportInput& in) {
  std::string o = "<section id=\"provenance\">\n<h2>Provenance</h2>\n<dl class=\"summary\">\n";
  o += "<dt class=\"kind\">measured</dt><dd>read from this database (<code>" + esc(in.db_path) +
       "</code>): finished runs of sweep <code>" + esc(in.sweep) +
       "</code>, each footnote naming the run, its scale, tokens and device; over several seeds the mean and its "
       "95% t-interval. The curves and the findings are measured too.</dd>\n";
  o += "<dt class=\"kind\">projected</dt><dd>from the cost model: the paper's token budget at a stated accelerator, "
       "utilisation and throughput (calibrated from this database where it can be); an estimate, not a "
       "measurement.</dd>\n";
  o += "<dt class=\"kind\">computed</dt><dd>from the architecture's accounting of the preset (parameter counts, "
       "layers, width): arithmetic on the configuration, no training involved.</dd>\n";
  o += "<dt class=\"kind\">paper</dt><dd>the paper's numbers as printed, in the columns marked (paper), with the "
       "source under each table; copied, never recomputed.</dd>\n</dl>\n";
  const auto anchors = table_anchors(in.tables);
  for (size_t i = 0; i < in.tables.size(); ++i) {
    const Table& t = in.tables[i];
    Footnotes fn;
    for (const auto& row : t.rows)
      for (const auto& cell : row) fn.key(cell.provenance);
    o += fmt::format("<h3 id=\"provenance-{}\">Table {}: {}</h3>\n", anchors[i], esc(t.id), esc(t.title));
    if (fn.list.empty()) {
      o += "<p class=\"note\">Paper values and labels only.</p>\n";
      continue;
    }
    o += "<ul class=\"footnotes\">\n";
    for (const auto& [k, p] : fn.list)
      o += fmt::format("<li id=\"fn-{}-{}\"><span class=\"kind {}\">[{}]</span> {}</li>\n", anchors[i], k,
                       kind_class(k), k, esc(p));
    o += "</ul>\n";
  }
  if (!in.curves.empty()) {
    o += "<h3>Curves</h3>\n<p class=\"note\">measured: the <code>val</code> and <code>train</code> series of runs ";
    std::vector<std::string> ids;
    for (const auto& a : in.curves)
      for (const auto& c : a.seeds) ids.push_back(fmt::format("{} seed {} = {}", a.arm, c.seed, c.run_id));
    o += esc(join(ids, "; ")) + ".</p>\n";
  }
  return o + "</section>\n";
}

}  // namespace

std::string render_html_report(const ReportInput& in) {
  std::string o =
      "<!DOCTYPE html>\n<!-- generated by analysis — do not edit -->\n<html lang=\"en\">\n<head>\n"
      "<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o +=
      "<title>sharelab report: " + esc(in.sweep) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  o += "<h1>sharelab report: sweep <code>" + esc(in.sweep) + "</code></h1>\n";
  o += "<nav><a href=\"#summary\">summary</a><a href=\"#findings\">findings</a><a href=\"#tables\">tables</a>"
       "<a href=\"#curves\">curves</a><a href=\"#provenance\">provenance</a></nav>\n";
  o += summary(in) + findings(in.findings) + tables(in.tables) + curves(in.curves) + provenance(in);
  return o + "</main>\n</body>\n</html>\n";
}

}  // namespace sharelab::analysis
