// The check that the shared-prefix scorer (scorer.h) changes no result: one task's requests as
// evaluate.cpp builds them (few-shot prefix, encode_pair), scored both ways, compared per request
// (ll, is_greedy) and per document (every metric of doc_metrics). Header-only: used by
// tests/test_eval_score.cpp, tests/test_eval_context_cache.cpp and bench/bench_eval.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "runner/eval/fewshot.h"
#include "runner/eval/metrics.h"
#include "runner/eval/request.h"
#include "runner/eval/scorer.h"
#include "runner/eval/task.h"

namespace sharelab::eval {

struct DocRequests {
  std::vector<TokenRequest> requests;
  std::vector<int64_t> first;  // document i's requests are [first[i], first[i + 1])
  int64_t docs() const { return int64_t(first.size()) - 1; }
};

// The requests of task.docs[0:docs] with `shots` few-shot examples each, as eval_choice_task makes them.
inline DocRequests doc_requests(const TaskData& task, const TextEncoder& enc, int64_t docs, int64_t shots,
                                BosPolicy bos = BosPolicy::kNone) {
  DocRequests d;
  d.first.push_back(0);
  docs = std::min<int64_t>(docs, int64_t(task.docs.size()));
  for (int64_t i = 0; i < docs; ++i) {
    for (const auto& r : build_requests(task, i, choose_shots(task, i, shots)))
      d.requests.push_back(encode_pair(enc, r.context, r.continuation, bos));
    d.first.push_back(int64_t(d.requests.size()));
  }
  return d;
}

struct PathAgreement {
  int64_t requests = 0, docs = 0;
  double max_abs = 0, max_rel = 0;  // over requests: |ll_a - ll_b|, and that / max(1, |ll_a|)
  int64_t greedy_differs = 0;       // requests whose is_greedy differs
  int64_t docs_differ = 0;          // documents with a metric that differs: acc, acc_norm, pct_stereotype at
                                    // all; mc2, likelihood_diff by more than 1e-4 (relative beyond 1)
  bool same(double rel_tol = 1e-5) const { return max_rel <= rel_tol && greedy_differs == 0 && docs_differ == 0; }
};

inline PathAgreement compare_paths(const TaskData& task, const DocRequests& d, const std::vector<LogLikelihood>& a,
                                   const std::vector<LogLikelihood>& b) {
  PathAgreement p;
  p.requests = int64_t(d.requests.size());
  p.docs = d.docs();
  for (int64_t k = 0; k < p.requests; ++k) {
    const double diff = std::fabs(a[k].ll - b[k].ll);
    p.max_abs = std::max(p.max_abs, diff);
    p.max_rel = std::max(p.max_rel, diff / std::max(1.0, std::fabs(a[k].ll)));
    p.greedy_differs += a[k].greedy != b[k].greedy || a[k].tokens != b[k].tokens;
  }
  for (int64_t i = 0; i < p.docs; ++i) {
    std::vector<double> la, lb;
    for (int64_t k = d.first[i]; k < d.first[i + 1]; ++k) {
      la.push_back(a[k].ll);
      lb.push_back(b[k].ll);
    }
    const auto ma = doc_metrics(task, task.docs[i], la), mb = doc_metrics(task, task.docs[i], lb);
    bool differ = false;
    for (const auto& [m, v] : ma) differ = differ || std::fabs(v - mb.at(m)) > 1e-4 * std::max(1.0, std::fabs(v));
    p.docs_differ += differ;
  }
  return p;
}

}  // namespace sharelab::eval
