// Per-document metrics from choice log-likelihoods (lm-eval MultipleChoiceTask.process_results,
// truthfulqa process_results_mc2, crows_pairs process_results) and their aggregation: the mean
// with the sample standard error of the mean (lm-eval mean_stderr: stdev with n-1, / sqrt(n)).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runner/eval/task.h"

namespace sharelab::eval {

// np.argmax: the first index of the maximum (ties go to the lowest index).
int argmax_first(const std::vector<double>& v);

// acc: argmax ll == gold. acc_norm: argmax ll / len(choice) in Unicode code points (not bytes).
double acc(const McDoc& doc, const std::vector<double>& ll);
double acc_norm(const McDoc& doc, const std::vector<double>& ll);
// sum(p[labels==1]) with p = exp(ll) / sum(exp(ll)), computed with the max subtracted first (equal
// in exact arithmetic; it avoids 0/0 when every exp(ll) underflows).
double mc2(const McDoc& doc, const std::vector<double>& ll);

// The metrics of one document for its task: {"acc", "acc_norm"?} | {"acc"} | {"mc2"} |
// {"pct_stereotype", "likelihood_diff"}.
std::map<std::string, double> doc_metrics(const TaskData& task, const McDoc& doc, const std::vector<double>& ll);

// What a metric scores on this document by guessing uniformly among its choices: 1/choices for
// acc and acc_norm, the true choices' share for mc2, 1/2 for pct_stereotype (a table marks a score
// whose interval contains the mean of these as "at chance"). Metrics without one are absent.
std::map<std::string, double> doc_chance(const TaskData& task, const McDoc& doc);

struct MeanStderr {
  double mean = 0, stderr_ = 0;
  int64_t n = 0;
};
MeanStderr mean_stderr(const std::vector<double>& values);

}  // namespace sharelab::eval
