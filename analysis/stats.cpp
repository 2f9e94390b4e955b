// Seed statistics (see stats.h).
#include "analysis/stats.h"

#include <fmt/format.h>

#include <cmath>

namespace sharelab::analysis {

double t975(int df) {
  // Two-sided 95% critical values of Student's t for df = 1..30.
  static const double kTable[] = {12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
                                  2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905,
                                  2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
                                  2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272};
  if (df < 1) return 0;
  if (df <= 30) return kTable[df - 1];
  const double z = 1.959963984540054, n = df;  // Cornish-Fisher: z + (z^3 + z)/4n + (5z^5 + 16z^3 + 3z)/96n^2
  return z + (z * z * z + z) / (4 * n) + (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * n * n);
}

Interval t_interval(const std::vector<double>& xs) {
  Interval r;
  r.n = int(xs.size());
  if (r.n == 0) return r;
  double sum = 0;
  for (double x : xs) sum += x;
  r.mean = sum / r.n;
  if (r.n < 2) return r;
  double ss = 0;
  for (double x : xs) ss += (x - r.mean) * (x - r.mean);
  r.sd = std::sqrt(ss / (r.n - 1));
  r.half = t975(r.n - 1) * r.sd / std::sqrt(double(r.n));
  return r;
}

PairedDifference paired_difference(const std::map<int64_t, double>& a, const std::map<int64_t, double>& b) {
  PairedDifference p;
  for (const auto& [seed, va] : a) {
    auto it = b.find(seed);
    if (it == b.end()) continue;
    p.seeds.push_back(seed);
    p.diffs.push_back(it->second - va);
  }
  p.interval = t_interval(p.diffs);
  return p;
}

std::string format_interval(const Interval& i, int digits) {
  if (!i.has_interval()) return fmt::format("{:.{}f} (n={})", i.mean, digits, i.n);
  return fmt::format("{:.{}f} ± {:.{}f} (n={})", i.mean, digits, i.half, digits, i.n);
}

}  // namespace sharelab::analysis
