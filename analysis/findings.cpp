// Paper claims against a sweep's seeds (see findings.h).
#include "analysis/findings.h"

#include <fmt/format.h>

#include <cmath>

namespace sharelab::analysis {

namespace {

bool has_arm(const DbView& v, const std::string& arm) { return !find_runs(v, arm).empty(); }

// The verdict of one claim from the paired difference B - A.
void judge(Finding& f) {
  const ClaimSpec& c = f.claim;
  const Interval& d = f.comparison.diff.interval;
  if (d.n == 0) {
    f.verdict = "inconclusive";
    f.reason = fmt::format("{} and {} share no seed: nothing to pair", c.a, c.b);
    return;
  }
  if (!d.has_interval()) {
    f.verdict = "inconclusive";
    f.reason = "one shared seed: no interval (the sweep needs seeds = [0, 1, 2])";
    return;
  }
  const std::string ci = fmt::format("95% CI of {} - {}: [{:+.4f}, {:+.4f}]", c.b, c.a, d.low(), d.high());
  if (c.expect == "within") {
    if (-c.margin <= d.low() && d.high() <= c.margin) {
      f.verdict = "reproduced";
      f.reason = fmt::format("{} lies within ±{:g}", ci, c.margin);
    } else if (d.low() > c.margin || d.high() < -c.margin) {
      f.verdict = "contradicted";
      f.reason = fmt::format("{} lies outside ±{:g}", ci, c.margin);
    } else {
      f.verdict = "inconclusive";
      f.reason = fmt::format("{} overlaps the edge of ±{:g}", ci, c.margin);
    }
    return;
  }
  const bool want_lower = c.expect == "lower";
  if (d.contains(0)) {
    f.verdict = "inconclusive";
    f.reason = ci + " contains 0: no difference resolved at this scale";
  } else if ((d.mean < 0) == want_lower) {
    f.verdict = "reproduced";
    f.reason = fmt::format("{} lies {} 0: {} is {} than {}", ci, want_lower ? "below" : "above", c.b, c.expect, c.a);
  } else {
    f.verdict = "contradicted";
    f.reason = fmt::format("{} lies {} 0: {} is {} than {}, not {}", ci, want_lower ? "above" : "below", c.b,
                           want_lower ? "higher" : "lower", c.a, c.expect);
  }
}

}  // namespace

Findings evaluate_claims(const std::vector<TableSpec>& specs, const DbView& view) {
  Findings out;
  const std::string sweep = view.sweep.empty() ? "any sweep" : "sweep " + view.sweep;
  for (const TableSpec& t : specs)
    for (const ClaimSpec& c : t.claims) {
      std::string missing;
      for (const std::string* arm : {&c.a, &c.b})
        if (!has_arm(view, *arm)) missing += (missing.empty() ? "'" : ", '") + *arm + "'";
      if (!missing.empty()) {
        out.untested.push_back(fmt::format("{} ({}): no finished run of {} in {}", c.id, c.source, missing, sweep));
        continue;
      }
      Finding f;
      f.table_id = t.id;
      f.claim = c;
      f.comparison = compare_arms(view, c.a, c.b, c.metric);
      judge(f);
      out.tested.push_back(std::move(f));
    }
  return out;
}

std::string format_findings(const Findings& f, const DbView& view) {
  std::string out = fmt::format("findings for {} in {}: {} claim(s) tested, {} not testable here\n",
                                view.sweep.empty() ? "every sweep" : "sweep " + view.sweep, view.path,
                                f.tested.size(), f.untested.size());
  for (const Finding& x : f.tested) {
    const ClaimSpec& c = x.claim;
    const Interval& d = x.comparison.diff.interval;
    std::string seeds;
    for (auto s : x.comparison.diff.seeds) seeds += (seeds.empty() ? "" : ",") + std::to_string(s);
    out += fmt::format("\n[{}] {} (table {})\n", x.verdict, c.id, x.table_id);
    out += fmt::format("  paper ({}): \"{}\"\n", c.source, c.paper);
    const std::string relation = c.expect == "within" ? fmt::format("within ±{:g} of", c.margin) : c.expect + " than";
    out += fmt::format("  tested: {} {} {} ({}){}\n", c.b, relation, c.a, c.metric, c.note.empty() ? "" : "; " + c.note);
    out += fmt::format("  A {}: {}\n", c.a, format_interval(x.comparison.a.interval));
    out += fmt::format("  B {}: {}\n", c.b, format_interval(x.comparison.b.interval));
    out += fmt::format("  B - A: {} paired over seeds [{}]\n", format_interval(d), seeds);
    out += fmt::format("  verdict: {}: {}\n", x.verdict, x.reason);
  }
  if (!f.untested.empty()) {
    out += "\nnot testable with this sweep:\n";
    for (const auto& u : f.untested) out += "  " + u + "\n";
  }
  return out;
}

}  // namespace sharelab::analysis
