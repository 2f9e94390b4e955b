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

// A run's arm: its name without the "-seed=S" that a sweep's seed list appends ("baseline1-seed=2"
// -> "baseline1"); a run of a sweep without seeds is its own arm.
std::string arm_of(const RunData& r);
// train.seed from the run's stored config: nullopt / ConfigError naming the run when it has none.
std::optional<int64_t> stored_seed(const RunData& r);
int64_t seed_of(const RunData& r);

// One arm's finished runs, the latest per seed, in seed order: the runs whose arm equals `match`,
// else those whose preset does (then only the arm of the latest finished among them, so two arms
// of one preset are never pooled). Empty when none is finished.
std::vector<const RunData*> find_runs(const DbView& v, const std::string& match);

// "measured here: run NAME of sweep S (...)" for one run; for several seeds
// "measured here: seeds 0, 1, 2 of run ARM of sweep S (...); mean and 95% t-interval over seeds".
std::string runs_provenance(const std::vector<const RunData*>& runs);

// The first of `keys` ("a|b") present among the run's scalars.
std::optional<double> scalar(const RunData& r, const std::string& keys);

// "measured here: run NAME of sweep S (scale X, 5.24M tokens, DEVICE)".
std::string run_provenance(const RunData& r);

// The latest profile of a preset (and dtype, unless empty); with_decode: among those that timed
// decoding. nullptr when none.
const store::ProfileRow* find_profile(const DbView& v, const std::string& preset, const std::string& dtype,
                                      bool with_decode = false);

// "1.26B", "524M", "5.24M" style count.
std::string short_count(double n);

}  // namespace sharelab::analysis
