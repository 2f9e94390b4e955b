// Batched log-likelihood scoring of TokenRequests with an arch::CausalLM, as lm-eval's
// _loglikelihood_tokens: input (ctx + cont)[-(L+1):][:-1] (left truncation keeps the whole
// continuation), log_softmax in fp32 over the continuation positions, ll = sum of the continuation
// tokens' log-probs (natural log) and is_greedy = every continuation token is the argmax.
//
// Two ways to run the same inputs through the model, with the same results (to float rounding):
//  - plain (lm-eval's own): requests sorted longest first, right-padded, one forward each batch;
//  - shared prefix (the default): requests whose inputs start with the same long token prefix (the
//    choices of one multiple-choice document: the same few-shot context) are grouped; the prefix is
//    prefilled once into an arch::KVCache (batch 1, no logits), its K/V copied to one row per
//    request, and the rows' remaining tokens run as one right-padded batch through forward_cached
//    (lm-eval recomputes the context for every choice). Each group's prefix stops before its first
//    scored position, so every scored logit comes from the batched step; requests that share
//    nothing go the plain way.
// Padding never changes a result: attention is causal and each item is sliced to its own length.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "arch/model.h"
#include "runner/eval/request.h"

namespace sharelab::eval {

struct LogLikelihood {
  double ll = 0;
  bool greedy = false;
  int64_t tokens = 0;  // continuation tokens scored
};

struct ScorerOptions {
  int64_t batch = 8;         // requests per forward (rows of a shared prefix's batched step)
  int64_t max_length = 0;    // L: model input length; 0 = the model's max_seq_len
  bool bf16 = false;         // bf16 autocast for the forward (log_softmax stays fp32)
  bool share_prefix = true;  // false: every request recomputes its whole input (lm-eval's way)
};

// What the last score() call did: requests scored from a shared prefix, in how many groups, and the
// token positions run through the model (prefills + padded batches) against the plain path's.
struct ScoreStats {
  int64_t requests = 0, shared_requests = 0, groups = 0;
  int64_t positions = 0;  // token positions forwarded, padding included
};

// Requests whose inputs share a prefix worth computing once: `prefix` tokens of inputs[members[0]]
// equal to every member's first `prefix` tokens, prefix <= every member's first scored position.
struct PrefixGroup {
  int64_t prefix = 0;
  std::vector<int64_t> members;
};

// Groups `inputs` (each request's model input) whose first scored positions are `first_scored`:
// sorted lexicographically, a neighbour joins the group while their common prefix p stays at least
// `min_prefix` tokens and shortening the group's prefix P to p costs its m members less than it
// saves: m (P - p) < P. So the choices of a document join, and so do documents whose long prefix
// is the same (MMLU's first-n shots), but two documents that happen to share their first few-shot
// example do not shrink each other's prefix. Requests with first_scored < min_prefix (-1: nothing
// to score) and groups of one request are left out. Deterministic; torch-free.
std::vector<PrefixGroup> plan_prefix_groups(const std::vector<std::vector<int32_t>>& inputs,
                                            const std::vector<int64_t>& first_scored, int64_t min_prefix = 8);

class Scorer {
 public:
  Scorer(arch::CausalLM model, ScorerOptions opt);

  // Results in the order of `requests`. `progress(done)` is called after each batch with the
  // number of requests scored so far.
  std::vector<LogLikelihood> score(const std::vector<TokenRequest>& requests,
                                   const std::function<void(int64_t)>& progress = {});

  int64_t max_length() const { return max_length_; }
  torch::Device device() const;
  const ScorerOptions& options() const { return opt_; }
  const ScoreStats& last_stats() const { return stats_; }

 private:
  // The plain path over requests[subset]; progress reports `done_before` + requests done here.
  void score_plain(const std::vector<TokenRequest>& requests, const std::vector<int64_t>& subset,
                   std::vector<LogLikelihood>& out, int64_t done_before, const std::function<void(int64_t)>& progress);
  // One shared-prefix group; returns the requests it scored.
  int64_t score_group(const std::vector<TokenRequest>& requests, const std::vector<std::vector<int32_t>>& inputs,
                      const PrefixGroup& group, std::vector<LogLikelihood>& out, int64_t done_before,
                      const std::function<void(int64_t)>& progress);

  arch::CausalLM model_;
  ScorerOptions opt_;
  int64_t max_length_;
  ScoreStats stats_;
};

}  // namespace sharelab::eval
