// `analysis findings --sweep S`: every paper claim ([[claim]] in experiments/*.table.toml) whose
// two arms the sweep ran, with the paper's words, our paired difference and a verdict:
// reproduced (the 95% interval of B - A lies on the claimed side), contradicted (on the other
// side), or inconclusive at this scale (it contains 0, or fewer than two shared seeds).
#pragma once

#include <string>
#include <vector>

#include "analysis/compare.h"
#include "analysis/db_view.h"
#include "analysis/table_spec.h"

namespace sharelab::analysis {

struct Finding {
  std::string table_id;   // the table the claim sits beside
  ClaimSpec claim;
  Comparison comparison;  // both arms over their seeds and the paired difference B - A
  std::string verdict;    // "reproduced" | "contradicted" | "inconclusive"
  std::string reason;     // one line: why this verdict
};

struct Findings {
  std::vector<Finding> tested;
  std::vector<std::string> untested;  // "claim-id: no finished run of 'X' in sweep S", one per claim
};

Findings evaluate_claims(const std::vector<TableSpec>& specs, const DbView& view);

// Plain text: per claim the paper's words, where they are, both arms, B - A with its interval,
// the verdict and its reason; then the claims this sweep cannot test.
std::string format_findings(const Findings& f, const DbView& view);

}  // namespace sharelab::analysis
