// `analysis report`: one self-contained HTML page of a sweep: the paper tables beside ours, the
// paper's claims with their verdicts, validation-loss curves per arm with seed bands (inline SVG)
// and where each number comes from. No network: no scripts, fonts, styles or images from outside.
#pragma once

#include <string>
#include <vector>

#include "analysis/curves.h"
#include "analysis/findings.h"
#include "analysis/table.h"

namespace sharelab::analysis {

struct ReportInput {
  std::string sweep, db_path, question;  // question may be empty
  std::vector<Table> tables;
  Findings findings;
  std::vector<ArmCurves> curves;
  std::string machine;  // one line, e.g. "2-core AMD EPYC (Zen 5), Debian 12"; may be empty
};

// A complete HTML5 document (UTF-8, inline <style> only) with the sections, in this order, of ids
// summary, findings, tables, curves, provenance. Every text from the input is escaped; the output
// is a pure function of the input.
std::string render_html_report(const ReportInput& in);

}  // namespace sharelab::analysis
