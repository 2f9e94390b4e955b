// The `analysis tables` pipeline as a function (tests call it without a process): open the
// database read-side, load the table definitions, build and render the selected tables.
#pragma once

#include <string>

#include "analysis/table.h"
#include "analysis/table_builder.h"
#include "runner/store/results_store.h"

namespace sharelab::analysis {

struct TablesRequest {
  std::string table = "all";  // a table id or "all"
  Format format = Format::kMarkdown;
  std::string db = store::kDefaultDb;
  std::string sweep;  // "" = any sweep
  std::string experiments = "experiments";
  BuildOptions build;
};

// The rendered tables, separated by a blank line. A database file that does not exist is not
// created: every measured value then shows as missing (projections and paper values remain).
std::string render_tables(const TablesRequest& req);

// Temporary file in the same folder, fsync, rename: a reader never sees half a table.
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace sharelab::analysis
