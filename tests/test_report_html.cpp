// analysis report: the SVG chart's mean and seed band (interpolation on the common x range, ticks,
// escaping), curves grouped by arm and seed from a results store built here, and the HTML page
// built from a hand-made input: section order, escaping, no URL, one chart each, determinism.
// SHARELAB_REPORT_HTML_OUT=FILE writes the rendered page there (to look at it in a browser).
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "analysis/curves.h"
#include "analysis/html_report.h"
#include "analysis/stats.h"
#include "analysis/svg_chart.h"
#include "runner/store/results_store.h"

using namespace sharelab;
using namespace sharelab::analysis;
namespace fs = std::filesystem;

namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

bool has(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

// A loss curve falling from `start` by `drop` per 1024 tokens, validated every 1024 tokens.
SeedCurve seed_curve(int64_t seed, double start, double drop, bool pro_rata = false) {
  SeedCurve c;
  c.seed = seed;
  c.run_id = fmt::format("run{}-{}", seed, start);
  for (int i = 1; i <= 4; ++i) {
    c.tokens.push_back(1024.0 * i);
    c.loss.push_back(start - drop * i);
    c.wall_s.push_back(1.5 * i + 0.1 * seed);
  }
  c.wall_pro_rata = pro_rata;
  return c;
}

Finding finding(const std::string& id, const std::string& paper, std::map<int64_t, double> a,
                std::map<int64_t, double> b, const std::string& verdict) {
  Finding f;
  f.table_id = "5";
  f.claim.id = id;
  f.claim.paper = paper;
  f.claim.source = "MobiLlama Sec. 4.2, Table 5";
  f.claim.a = "baseline1";
  f.claim.b = "mobillama";
  f.claim.expect = "lower";
  f.claim.note = "val loss stands in for the paper's average accuracy";
  f.comparison.a.name = "baseline1";
  f.comparison.b.name = "mobillama";
  std::vector<double> xa, xb;
  for (auto [s, x] : a) xa.push_back(x);
  for (auto [s, x] : b) xb.push_back(x);
  f.comparison.a.by_seed = a;
  f.comparison.b.by_seed = b;
  f.comparison.a.interval = t_interval(xa);
  f.comparison.b.interval = t_interval(xb);
  f.comparison.diff = paired_difference(a, b);
  f.verdict = verdict;
  f.reason = verdict == "reproduced" ? "the 95% interval of B - A lies below 0" : "the 95% interval contains 0";
  return f;
}

ReportInput report_input(int seeds_per_arm) {
  ReportInput in;
  in.sweep = "table1-cpu";
  in.db_path = "results/sharelab.db";
  in.question = "Does one shared FFN beat a deep-narrow model?";
  in.machine = "2-core AMD EPYC (Zen 5), Debian 12";
  Table t;
  t.id = "5";
  t.title = "Zero-shot accuracy";
  t.source = "MobiLlama Table 5";
  t.columns = {"Model", "HellaSwag (paper)", "HellaSwag (ours)", "Params (ours)", "GPU days (ours)"};
  t.rows = {{{"baseline1", ""},
             {"52.5", ""},
             {"26.10 ± 0.40 (n=3)", "measured here: run baseline1 of sweep s"},
             {"0.54B", "computed: unique parameters of baseline1"},
             {"7.5", "projected: A100 at 50% MFU"}},
            {{"a<b & c", ""},
             {"", ""},
             {"25.00†", "measured here: run a<b of sweep s"},
             {"missing", ""},
             {"7.5", "projected: A100 at 50% MFU"}}};
  t.notes = {"† at chance (25% for four choices)"};
  in.tables.push_back(t);
  in.findings.tested.push_back(finding("table5-shared-ffn", "MobiLlama <beats> baseline1 & friends",
                                       {{0, 4.50}, {1, 4.60}, {2, 4.40}}, {{0, 4.40}, {1, 4.49}, {2, 4.31}},
                                       "reproduced"));
  in.findings.tested.push_back(
      finding("table5-within", "about the same", {{0, 4.50}, {1, 4.60}}, {{0, 4.55}, {1, 4.52}}, "inconclusive"));
  in.findings.untested = {"table1-large-base: no finished run of 'large-base' in sweep table1-cpu"};
  for (const auto& [arm, start] : {std::pair<std::string, double>{"baseline1", 5.5}, {"mobillama", 5.4}}) {
    ArmCurves a{arm, arm == "mobillama" ? "ffn cycle, 1 unique" : "none", {}};
    for (int s = 0; s < seeds_per_arm; ++s)
      a.seeds.push_back(seed_curve(s, start + 0.05 * s, 0.2, arm == "mobillama" && s == 1));
    in.curves.push_back(a);
  }
  return in;
}

}  // namespace

TEST_CASE("svg chart: mean and min-max band over seeds on the x range all of them cover") {
  // A: y = 4 - x on [0, 4]; B: y = 6 - x on [1, 5], given out of order. Common range [1, 4].
  const ChartCurve a{{0, 2, 4}, {4, 2, 0}}, b{{5, 1, 3}, {1, 5, 3}};
  const MeanBand m = mean_band({a, b});
  CHECK(m.n == 2);
  CHECK(m.x == std::vector<double>{1, 2, 3, 4});
  CHECK(m.mean == std::vector<double>{4, 3, 2, 1});
  CHECK(m.lo == std::vector<double>{3, 2, 1, 0});
  CHECK(m.hi == std::vector<double>{5, 4, 3, 2});
  const MeanBand one = mean_band({a});  // one seed: its own points
  CHECK(one.x == a.x);
  CHECK(one.mean == a.y);
  CHECK(mean_band({ChartCurve{{0, 1}, {1, 1}}, ChartCurve{{2, 3}, {1, 1}}}).x.empty());  // no shared range
  CHECK(mean_band({}).n == 0);

  CHECK(nice_ticks(0, 4096) == std::vector<double>{0, 1000, 2000, 3000, 4000, 5000});
  const auto y = nice_ticks(4.1, 5.6);
  REQUIRE(y.size() == 5);
  CHECK(y.front() == doctest::Approx(4.0));
  CHECK(y.back() == doctest::Approx(6.0));
  CHECK(nice_ticks(3, 3).size() >= 2);  // a flat line still gets an axis
  CHECK(palette_color(0) == "#0072B2");
  CHECK(palette_color(8) == palette_color(0));
  CHECK(xml_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");

  ChartSpec spec{"t", "loss <vs> tokens", "tokens & more", "loss", {{"two <seeds>", 0, {a, b}}, {"one", 1, {a}}}};
  const std::string svg = svg_line_chart(spec);
  CHECK(svg.rfind("<svg ", 0) == 0);
  CHECK(has(svg, "</svg>"));
  CHECK(count(svg, "class=\"band\"") == 1);  // the two-seed series only
  CHECK(count(svg, "class=\"mean\"") == 2);
  CHECK(has(svg, "two &lt;seeds&gt;"));
  CHECK(has(svg, "loss &lt;vs&gt; tokens"));
  CHECK(!has(svg, "<seeds>"));
  CHECK(!has(svg, "http"));
  CHECK(svg == svg_line_chart(spec));
  spec.series.push_back({"empty", 2, {}});
  CHECK(has(svg_line_chart(spec), "empty (no points)"));
}

TEST_CASE("load_curves: arms without -seed=S, the latest finished run per seed, runs without val points left out") {
  const fs::path dir = fs::path(SHARELAB_BINARY_DIR) / "test_report_html_curves.tmp";
  fs::remove_all(dir);
  fs::create_directories(dir);
  store::ResultsStore db((dir / "curves.db").string());
  struct R {
    std::string id, name;
    int seed;
    bool val, train, finished;
  };
  // dense-seed=1 twice (d1old finishes earlier), no-val and unfinished runs, a name that only
  // looks like a seed suffix ("odd-seed=x" is its own arm).
  const std::vector<R> runs = {
      {"d0", "dense-seed=0", 0, true, true, true},       {"d1", "dense-seed=1", 1, true, true, true},
      {"d1old", "dense-seed=1", 1, true, true, true},    {"s1", "shared-seed=1", 1, true, false, true},
      {"s0", "shared-seed=0", 0, true, true, true},      {"n0", "noval-seed=0", 0, false, true, true},
      {"u0", "unfinished-seed=0", 0, true, true, false}, {"o", "odd-seed=x", 3, true, true, true}};
  for (const auto& r : runs) {
    store::RunRow row;
    row.run_id = r.id;
    row.sweep = "s";
    row.name = r.name;
    row.preset = r.name.substr(0, r.name.find('-'));
    row.scheme = row.preset == "shared" ? "ffn cycle" : "none";
    row.config_json = fmt::format(R"({{"train": {{"seed": {}}}}})", r.seed);
    row.started_at = "2026-11-29T00:00:00Z";
    db.begin_run(row);
    std::vector<store::SeriesPoint> pts;
    for (int i = 1; i <= 2 && r.val; ++i) pts.push_back({"val", i, 512.0 * i, 5.0 - 0.1 * i - 0.01 * r.seed, 0, 0, 0});
    for (int i = 1; i <= 2 && r.train; ++i) pts.push_back({"train", i, 512.0 * i, 5.0, 1e-3, 1, 256.0});
    db.add_series(r.id, pts);
    db.put_scalars(r.id, {{"wall_s", 8.0}, {"tokens", 1024.0}});
    if (r.finished) db.finish_run(r.id, "finished");
  }
  DbView view = load_view(db, "s");
  for (auto& r : view.runs)
    r.run.finished_at = r.run.run_id == "d1old" ? "2026-11-29T01:00:00Z" : "2026-11-29T02:00:00Z";
  const auto arms = load_curves(db, view);
  REQUIRE(arms.size() == 3);
  CHECK(arms[0].arm == "dense");  // view order: by name
  CHECK(arms[1].arm == "odd-seed=x");
  CHECK(arms[2].arm == "shared");
  CHECK(arms[2].scheme == "ffn cycle");
  REQUIRE(arms[0].seeds.size() == 2);
  CHECK(arms[0].seeds[0].seed == 0);
  CHECK(arms[0].seeds[1].seed == 1);
  CHECK(arms[0].seeds[1].run_id == "d1");  // the later of the two seed-1 runs
  CHECK(arms[1].seeds[0].seed == 3);
  const SeedCurve& d0 = arms[0].seeds[0];
  CHECK(d0.tokens == std::vector<double>{512, 1024});
  CHECK(d0.loss[1] == doctest::Approx(4.8));
  // 256 tokens/s from the train log: integrated, 2 s per 512 tokens.
  CHECK(d0.wall_s == std::vector<double>{2, 4});
  CHECK(!d0.wall_pro_rata);
  // shared seed 1 has no train series: its total wall_s (8 s for 1024 tokens) pro rata.
  const SeedCurve& s1 = arms[2].seeds[1];
  CHECK(s1.run_id == "s1");
  CHECK(s1.wall_pro_rata);
  CHECK(s1.wall_s == std::vector<double>{4, 8});
}

TEST_CASE("html report: sections in order, tables with provenance, findings, one chart each, escaped, no URL") {
  const ReportInput in = report_input(2);
  const std::string html = render_html_report(in);
  if (const char* out = std::getenv("SHARELAB_REPORT_HTML_OUT")) std::ofstream(out) << html;

  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(has(html, "<meta charset=\"utf-8\">"));
  size_t last = 0;
  for (const char* id : {"summary", "findings", "tables", "curves", "provenance"}) {
    const std::string attr = fmt::format("<section id=\"{}\">", id);
    CHECK_MESSAGE(count(html, fmt::format("id=\"{}\"", id)) == 1, id);
    const size_t at = html.find(attr);
    REQUIRE_MESSAGE(at != std::string::npos, id);
    CHECK_MESSAGE(at > last, id);
    last = at;
  }
  CHECK(count(html, "<section") == count(html, "</section>"));
  CHECK(count(html, "<table") == count(html, "</table>"));
  // Self-contained: no URL, stylesheet link, import, font or script.
  for (const char* bad : {"http", "//cdn", "<link", "@import", "@font-face", "url(", "<script", "<img"})
    CHECK_MESSAGE(!has(html, bad), bad);

  // Escaping in a table cell, a provenance tooltip and a claim's words.
  CHECK(has(html, ">a&lt;b &amp; c<"));
  CHECK(has(html, "title=\"measured here: run a&lt;b of sweep s\""));
  CHECK(has(html, "MobiLlama &lt;beats&gt; baseline1 &amp; friends"));
  CHECK(!has(html, "<beats>"));
  CHECK(!has(html, "a<b"));
  // Table: paper column, footnote keys by first appearance, "±", "(n=3)" and "†" kept.
  CHECK(has(html, "<th class=\"paper\">HellaSwag (paper)</th>"));
  CHECK(has(html, "<td class=\"paper\">52.5</td>"));
  CHECK(has(html, "26.10 ± 0.40 (n=3)<sup class=\"fn\"><a href=\"#fn-5-m1\">m1</a></sup>"));
  CHECK(has(html, "25.00†<sup class=\"fn\"><a href=\"#fn-5-m2\">m2</a></sup>"));
  CHECK(has(html, "<a href=\"#fn-5-c1\">c1</a>"));
  CHECK(count(html, "<a href=\"#fn-5-p1\">p1</a>") == 2);  // same provenance, same key
  CHECK(has(html, "<li id=\"fn-5-m1\">"));
  CHECK(has(html, "<li id=\"fn-5-p1\">"));
  CHECK(has(html, "<td class=\"missing\">missing</td>"));
  CHECK(has(html, "† at chance (25% for four choices)"));
  // Findings: verdict badges, the source, both arms and B - A as format_interval prints them.
  CHECK(has(html, "<span class=\"badge reproduced\">reproduced</span> table5-shared-ffn"));
  CHECK(has(html, "<span class=\"badge inconclusive\">inconclusive</span> table5-within"));
  CHECK(has(html, "<cite>MobiLlama Sec. 4.2, Table 5</cite>"));
  const auto& c = in.findings.tested[0].comparison;
  CHECK(has(html, format_interval(c.a.interval)));
  CHECK(has(html, format_interval(c.diff.interval)));
  CHECK(has(html, "<td>0, 1, 2</td>"));
  CHECK(has(html, "val loss stands in for the paper&#39;s average accuracy"));
  CHECK(has(html, "table1-large-base: no finished run of &#39;large-base&#39; in sweep table1-cpu"));
  // Curves: one SVG per chart with a band per two-seed arm; the pro-rata seed is named.
  CHECK(count(html, "<svg") == 2);
  CHECK(count(html, "class=\"band\"") == 4);
  CHECK(has(html, "Pro rata wall time"));
  CHECK(has(html, "mobillama seed 1"));
  CHECK(has(html, "2-core AMD EPYC (Zen 5), Debian 12"));
  CHECK(html == render_html_report(in));  // deterministic
}

TEST_CASE("html report: one seed per arm draws lines only, and an empty input says so") {
  const std::string one = render_html_report(report_input(1));
  CHECK(count(one, "<svg") == 2);
  CHECK(count(one, "class=\"band\"") == 0);
  CHECK(count(one, "class=\"mean\"") == 4);
  CHECK(!has(one, "Pro rata wall time"));

  ReportInput empty;
  empty.sweep = "nothing";
  const std::string html = render_html_report(empty);
  CHECK(has(html, "No paper claim could be tested"));
  CHECK(has(html, "No finished run of this sweep has validation points."));
  CHECK(count(html, "<svg") == 0);
  CHECK(!has(html, "<dt>Question</dt>"));
  CHECK(!has(html, "<dt>Machine</dt>"));
  for (const char* id : {"summary", "findings", "tables", "curves", "provenance"})
    CHECK(has(html, fmt::format("<section id=\"{}\">", id)));
}
