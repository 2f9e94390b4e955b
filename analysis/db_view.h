// The slice of the results database the tables and plots read, loaded once through ResultsStore,
// and the lookups on it: the run a table row refers to, its provenance text, the latest profile.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/store/results_store.h"

namespace sharelab::analysis {

struct RunData {
  store::RunRow run;
  std::map<std::string, double> scalars;
  std::vector<store::EvalRow> evals;
};

struct DbView {
  std::string path;
  std::string sweep;                        // "" = every sweep
  std::vector<RunData> runs;                // sorted by (sweep, name, run_id)
  std::vector<store::ProfileRow> profiles;  // sorted by (preset, dtype, created_at)
};

DbView load_view(store::ResultsStore& db, const std::string& sweep);

// The finished run whose name or preset equals `match`; among several, the latest finished
// (then the greatest run_id, so the choice is deterministic). nullptr when none is finished.
const RunData* find_run(const DbView& v, const std::string& match);

// The first of `keys` ("a|b") present among the run's scalars.
std::optional<double> scalar(const RunData& r, const std::string& keys);

// "measured here: run NAME of sweep S (scale X, 5.24M tokens, DEVICE)".
std::string run_provenance(const RunData& r);

// The most recent profile of (preset, dtype); nullptr when none.
const store::ProfileRow* find_profile(const DbView& v, const std::string& preset, const std::string& dtype);

// "1.26B", "524M", "5.24M" style count.
std::string short_count(double n);

}  // namespace sharelab::analysis
