// Batched log-likelihood scoring of TokenRequests with an arch::CausalLM, as lm-eval's
// _loglikelihood_tokens: input (ctx + cont)[-(L+1):][:-1] (left truncation keeps the whole
// continuation), requests sorted longest first and right-padded, log_softmax in fp32 over the
// continuation positions, ll = sum of the continuation tokens' log-probs (natural log) and
// is_greedy = every continuation token is the argmax. Padding never changes a result: each item
// is sliced to its own length and attention is causal.
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
  int64_t batch = 8;       // requests per forward
  int64_t max_length = 0;  // L: model input length; 0 = the model's max_seq_len
  bool bf16 = false;       // bf16 autocast for the forward (log_softmax stays fp32)
};

class Scorer {
 public:
  Scorer(arch::CausalLM model, ScorerOptions opt);

  // Results in the order of `requests`. `progress(done)` is called after each batch with the
  // number of requests scored so far.
  std::vector<LogLikelihood> score(const std::vector<TokenRequest>& requests,
                                   const std::function<void(int64_t)>& progress = {});

  int64_t max_length() const { return max_length_; }
  torch::Device device() const;

 private:
  arch::CausalLM model_;
  ScorerOptions opt_;
  int64_t max_length_;
};

}  // namespace sharelab::eval
