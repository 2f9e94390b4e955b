// Fills a TableSpec's cells from the database view, the accounting module and the cost model:
// paper value beside ours, each of ours tagged measured / computed / projected, "missing" where a
// run or profile is absent (never zero).
#pragma once

#include "analysis/db_view.h"
#include "analysis/table.h"
#include "analysis/table_spec.h"

namespace sharelab::analysis {

struct BuildOptions {
  double mfu = 0;  // > 0 overrides every projection's utilisation (--mfu)
};

Table build_table(const TableSpec& spec, const DbView& view, const BuildOptions& opt);

// The utilisation a projection on `accelerator` uses when its column gives none: the median
// "mfu" scalar of finished runs measured on that accelerator (device text contains "A100" /
// "H100"), else arch::kDefaultMfu. `how` says which ("calibrated from N runs" / "assumed").
double calibrated_mfu(const DbView& view, const std::string& accelerator, std::string& how);

}  // namespace sharelab::analysis
