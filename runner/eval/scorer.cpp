// Batched log-likelihoods (see scorer.h).
#include "runner/eval/scorer.h"

#include "kernels/torch_compat.h"

#include <algorithm>
#include <numeric>

namespace sharelab::eval {

Scorer::Scorer(arch::CausalLM model, ScorerOptions opt)
    : model_(std::move(model)), opt_(opt), max_length_(opt.max_length > 0 ? opt.max_length : model_->spec().max_seq_len) {
  TORCH_CHECK(opt_.batch >= 1, "Scorer: batch must be >= 1");
  model_->eval();
}

torch::Device Scorer::device() const { return model_->tok_emb->weight.device(); }

std::vector<LogLikelihood> Scorer::score(const std::vector<TokenRequest>& requests,
                                         const std::function<void(int64_t)>& progress) {
  const int64_t n = int64_t(requests.size());
  std::vector<LogLikelihood> out(n);
  // Longest first (lm-eval's Reorderer key -len(ctx + cont)); ties keep request order.
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto total = [&](int64_t i) { return requests[i].context.size() + requests[i].continuation.size(); };
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return total(a) > total(b); });

  torch::NoGradGuard no_grad;
  const torch::Device dev = device();
  for (int64_t start = 0; start < n; start += opt_.batch) {
    const int64_t bsz = std::min(opt_.batch, n - start);
    std::vector<std::vector<int32_t>> inputs(bsz);
    std::vector<int64_t> cont_len(bsz);
    int64_t width = 1;
    for (int64_t b = 0; b < bsz; ++b) {
      const TokenRequest& r = requests[order[start + b]];
      std::vector<int32_t> whole(r.context);
      whole.insert(whole.end(), r.continuation.begin(), r.continuation.end());
      // (ctx + cont)[-(L+1):][:-1]
      const int64_t keep = std::min<int64_t>(int64_t(whole.size()), max_length_ + 1);
      inputs[b].assign(whole.end() - keep, whole.end() - 1);
      cont_len[b] = int64_t(r.continuation.size());
      TORCH_CHECK(cont_len[b] <= int64_t(inputs[b].size()), "continuation of ", cont_len[b],
                  " tokens does not fit the model length ", max_length_);
      width = std::max<int64_t>(width, int64_t(inputs[b].size()));
    }
    torch::Tensor tokens = torch::zeros({bsz, width}, torch::kLong);  // (B, T), right-padded with 0
    auto acc = tokens.accessor<int64_t, 2>();
    for (int64_t b = 0; b < bsz; ++b)
      for (size_t t = 0; t < inputs[b].size(); ++t) acc[b][t] = inputs[b][t];
    torch::Tensor logits;  // (B, T, V)
    {
      kernels::compat::AutocastGuard autocast(opt_.bf16, dev.type());
      logits = model_->forward(kernels::compat::to_device(tokens, dev));
    }
    for (int64_t b = 0; b < bsz; ++b) {
      const TokenRequest& r = requests[order[start + b]];
      LogLikelihood& res = out[order[start + b]];
      res.tokens = cont_len[b];
      if (cont_len[b] == 0) {
        res.greedy = true;
        continue;
      }
      const int64_t inplen = int64_t(inputs[b].size());
      // (C, V): the positions whose next token is a continuation token, log_softmax in fp32.
      torch::Tensor logp = logits[b].slice(0, inplen - cont_len[b], inplen).to(torch::kFloat).log_softmax(-1);
      torch::Tensor target = torch::tensor(std::vector<int64_t>(r.continuation.begin(), r.continuation.end()),
                                           torch::kLong).to(dev);  // (C)
      res.ll = logp.gather(1, target.unsqueeze(1)).sum().to(torch::kDouble).item<double>();
      res.greedy = logp.argmax(-1).eq(target).all().item<bool>();
    }
    if (progress) progress(start + bsz);
  }
  return out;
}

}  // namespace sharelab::eval
