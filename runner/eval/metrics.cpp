// Multiple-choice metrics and their aggregation (see metrics.h).
#include "runner/eval/metrics.h"

#include <cmath>

#include "runner/eval/text_util.h"

namespace sharelab::eval {

int argmax_first(const std::vector<double>& v) {
  int best = 0;
  for (int i = 1; i < int(v.size()); ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

double acc(const McDoc& doc, const std::vector<double>& ll) { return argmax_first(ll) == doc.gold ? 1.0 : 0.0; }

double acc_norm(const McDoc& doc, const std::vector<double>& ll) {
  std::vector<double> norm(ll.size());
  for (size_t i = 0; i < ll.size(); ++i) norm[i] = ll[i] / double(code_points(doc.choices[i]));
  return argmax_first(norm) == doc.gold ? 1.0 : 0.0;
}

double mc2(const McDoc& doc, const std::vector<double>& ll) {
  double top = ll[argmax_first(ll)], total = 0, truth = 0;
  for (size_t i = 0; i < ll.size(); ++i) {
    const double p = std::exp(ll[i] - top);
    total += p;
    if (doc.mc2_labels[i] == 1) truth += p;
  }
  return truth / total;
}

std::map<std::string, double> doc_metrics(const TaskData& task, const McDoc& doc, const std::vector<double>& ll) {
  switch (task.scoring) {
    case Scoring::kMc2:
      return {{"mc2", mc2(doc, ll)}};
    case Scoring::kPairBias:  // sent_more is choice 0: "stereotype preferred" when it is more likely
      return {{"pct_stereotype", ll[0] > ll[1] ? 1.0 : 0.0}, {"likelihood_diff", std::fabs(ll[0] - ll[1])}};
    case Scoring::kPartial:
      return {{"acc", acc(doc, ll)}};
    case Scoring::kChoice:
      break;
  }
  std::map<std::string, double> m{{"acc", acc(doc, ll)}};
  if (task.report_acc_norm) m["acc_norm"] = acc_norm(doc, ll);
  return m;
}

std::map<std::string, double> doc_chance(const TaskData& task, const McDoc& doc) {
  const double k = double(doc.choices.size());
  switch (task.scoring) {
    case Scoring::kMc2: {
      double truth = 0;
      for (int l : doc.mc2_labels) truth += l == 1 ? 1.0 : 0.0;
      return {{"mc2", truth / k}};
    }
    case Scoring::kPairBias:
      return {{"pct_stereotype", 0.5}};
    case Scoring::kPartial:
      return {{"acc", 1.0 / k}};
    case Scoring::kChoice:
      break;
  }
  std::map<std::string, double> m{{"acc", 1.0 / k}};
  if (task.report_acc_norm) m["acc_norm"] = 1.0 / k;
  return m;
}

MeanStderr mean_stderr(const std::vector<double>& v) {
  MeanStderr r;
  r.n = int64_t(v.size());
  if (v.empty()) return r;
  double sum = 0;
  for (double x : v) sum += x;
  r.mean = sum / double(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - r.mean) * (x - r.mean);
    r.stderr_ = std::sqrt(ss / double(v.size() - 1)) / std::sqrt(double(v.size()));
  }
  return r;
}

}  // namespace sharelab::eval
