// Fills a TableSpec's cells from the database view, the accounting module and the cost model:
// paper value beside ours, each of ours tagged measured / computed / projected, "missing" where a
// run or profile is absent (never zero). A row's measured cells aggregate its arm's seeds (mean ±
// half-width of the 95% t-interval, with n; one seed prints as the value alone); evaluation cells
// whose interval contains the task's chance level are marked "†". With a reference row, columns
// with `diff` (all measured ones when --reference names the row and none has `diff`) get a
// companion column "LABEL Δ": each row minus the reference, paired by seed.
#pragma once

#include "analysis/db_view.h"
#include "analysis/table.h"
#include "analysis/table_spec.h"

namespace sharelab::analysis {

struct BuildOptions {
  double mfu = 0;          // > 0 overrides every projection's utilisation (--mfu)
  std::string reference;   // a row label: overrides the table's `reference` (--reference); a table
                           // without such a row is left without differences
};

Table build_table(const TableSpec& spec, const DbView& view, const BuildOptions& opt);

// The utilisation a projection on `accelerator` uses when its column gives none: the median
// "mfu" scalar of finished runs measured on that accelerator (device text contains "A100" /
// "H100"), else arch::kDefaultMfu. `how` says which ("calibrated from N runs" / "assumed").
double calibrated_mfu(const DbView& view, const std::string& accelerator, std::string& how);

}  // namespace sharelab::analysis
