// Seed statistics for ablation comparisons: mean, sample sd and the 95% t-interval of a handful of
// seeds, and the paired difference of two arms over the seeds they share (same seed = same
// initialisation stream and data order, so pairing removes the seed's share of the variance).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sharelab::analysis {

// Student's t 0.975 quantile for df degrees of freedom (exact table to 30, then the
// Cornish-Fisher expansion, within 1e-4 of the true value).
double t975(int df);

struct Interval {
  int n = 0;
  double mean = 0, sd = 0;   // sd: sample standard deviation (n - 1); 0 when n < 2
  double half = 0;           // t975(n - 1) * sd / sqrt(n); 0 when n < 2 (no interval)
  double low() const { return mean - half; }
  double high() const { return mean + half; }
  bool has_interval() const { return n >= 2; }
  bool contains(double x) const { return has_interval() && low() <= x && x <= high(); }
};

Interval t_interval(const std::vector<double>& xs);

// b[seed] - a[seed] over the seeds both have, and the t-interval of those differences.
struct PairedDifference {
  std::vector<int64_t> seeds;  // shared seeds, ascending
  std::vector<double> diffs;
  Interval interval;
};
PairedDifference paired_difference(const std::map<int64_t, double>& a, const std::map<int64_t, double>& b);

// "4.512 ± 0.031 (n=3)", or "4.512 (n=1)" without an interval.
std::string format_interval(const Interval& i, int digits = 4);

}  // namespace sharelab::analysis
