// `analysis compare --sweep S A B --metric M`: B - A over the seeds both arms ran, paired by seed,
// with its 95% t-interval and a verdict (lower, higher, or no difference resolved at this n).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analysis/db_view.h"
#include "analysis/stats.h"

namespace sharelab::analysis {

// One arm: find_runs(view, arm) (its runs by name without -seed=S, else by preset), one per seed.
struct Arm {
  std::string name;
  std::map<int64_t, double> by_seed;  // seed -> metric
  Interval interval;                  // over the seeds
};

// `metric`: a run scalar (final_val_loss; val_loss and train_loss are accepted for the final_*
// ones) or an evaluation "task/metric" (hellaswag/acc_norm). ConfigError naming the arm, the run
// or the metric when there is nothing to compare.
Arm load_arm(const DbView& v, const std::string& arm, const std::string& metric);

struct Comparison {
  Arm a, b;
  PairedDifference diff;  // b - a
  std::string verdict;    // one line
};
Comparison compare_arms(const DbView& v, const std::string& a, const std::string& b, const std::string& metric);

// The printed report: each arm's mean ± half-width, the paired difference, its interval, the verdict.
std::string format_comparison(const Comparison& c, const std::string& metric);

}  // namespace sharelab::analysis
