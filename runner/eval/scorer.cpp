// Batched log-likelihoods, plain and from shared prefixes (see scorer.h). Shapes: B rows, T time,
// V vocab, P shared prefix, G kv heads, D head_dim, C continuation tokens.
#include "runner/eval/scorer.h"

#include "kernels/torch_compat.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sharelab::eval {

namespace {

// (ctx + cont)[-(L+1):][:-1]: the model input of one request.
std::vector<int32_t> model_input(const TokenRequest& r, int64_t max_length) {
  std::vector<int32_t> whole(r.context);
  whole.insert(whole.end(), r.continuation.begin(), r.continuation.end());
  const int64_t keep = std::min<int64_t>(int64_t(whole.size()), max_length + 1);
  std::vector<int32_t> input(whole.end() - keep, whole.end() - 1);
  TORCH_CHECK(int64_t(r.continuation.size()) <= int64_t(input.size()), "continuation of ", r.continuation.size(),
              " tokens does not fit the model length ", max_length);
  return input;
}

// Rows of token ids, right-padded with 0 from column `from` of each: (B, T) int64 on the CPU.
torch::Tensor padded_rows(const std::vector<const std::vector<int32_t>*>& rows, int64_t from, int64_t width) {
  torch::Tensor tokens = torch::zeros({int64_t(rows.size()), width}, torch::kLong);
  auto acc = tokens.accessor<int64_t, 2>();
  for (size_t b = 0; b < rows.size(); ++b)
    for (size_t t = size_t(from); t < rows[b]->size(); ++t) acc[int64_t(b)][int64_t(t) - from] = (*rows[b])[t];
  return tokens;
}

// ll and is_greedy of `cont` from logits (T, V) whose rows begin..begin+C-1 predict it; log_softmax
// in fp32.
LogLikelihood continuation_ll(const torch::Tensor& logits, int64_t begin, const std::vector<int32_t>& cont,
                              const torch::Device& dev) {
  LogLikelihood res;
  res.tokens = int64_t(cont.size());
  if (cont.empty()) {
    res.greedy = true;
    return res;
  }
  torch::Tensor logp = logits.slice(0, begin, begin + res.tokens).to(torch::kFloat).log_softmax(-1);  // (C, V)
  torch::Tensor target =
      torch::tensor(std::vector<int64_t>(cont.begin(), cont.end()), torch::kLong).to(dev);  // (C)
  res.ll = logp.gather(1, target.unsqueeze(1)).sum().to(torch::kDouble).item<double>();
  res.greedy = logp.argmax(-1).eq(target).all().item<bool>();
  return res;
}

int64_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  return int64_t(std::mismatch(a.begin(), a.begin() + n, b.begin()).first - a.begin());
}

}  // namespace

std::vector<PrefixGroup> plan_prefix_groups(const std::vector<std::vector<int32_t>>& inputs,
                                            const std::vector<int64_t>& first_scored, int64_t min_prefix) {
  std::vector<int64_t> order;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (first_scored[i] >= min_prefix) order.push_back(int64_t(i));  // others cannot share min_prefix tokens
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return inputs[a] < inputs[b]; });
  std::vector<PrefixGroup> groups;
  PrefixGroup cur;
  auto close = [&] {
    if (cur.members.size() >= 2) groups.push_back(cur);
    cur = PrefixGroup{};
  };
  for (const int64_t k : order) {
    if (!cur.members.empty()) {  // sorted: the group's common prefix is the minimum over neighbours
      const int64_t p = std::min({cur.prefix, common_prefix(inputs[cur.members.back()], inputs[k]), first_scored[k]});
      // Joining shortens the prefix from P to p: the m members recompute P - p positions each,
      // k alone would recompute its whole input; worth it while m (P - p) < P.
      const int64_t m = int64_t(cur.members.size());
      if (p >= min_prefix && m * (cur.prefix - p) < cur.prefix) {
        cur.prefix = p;
        cur.members.push_back(k);
        continue;
      }
      close();
    }
    cur.prefix = first_scored[k];
    cur.members = {k};
  }
  close();
  return groups;
}

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
  stats_ = ScoreStats{};
  stats_.requests = n;
  torch::NoGradGuard no_grad;
  std::vector<int64_t> rest;  // the plain path's requests, in request order
  int64_t done = 0;
  if (opt_.share_prefix) {
    std::vector<std::vector<int32_t>> inputs(n);
    std::vector<int64_t> first(n);  // first scored position; -1: nothing to score
    for (int64_t i = 0; i < n; ++i) {
      inputs[i] = model_input(requests[i], max_length_);
      const int64_t c = int64_t(requests[i].continuation.size());
      first[i] = c > 0 ? int64_t(inputs[i].size()) - c : -1;
    }
    std::vector<char> grouped(n, 0);
    for (const PrefixGroup& g : plan_prefix_groups(inputs, first)) {
      done += score_group(requests, inputs, g, out, done, progress);
      for (const int64_t m : g.members) grouped[m] = 1;
    }
    for (int64_t i = 0; i < n; ++i)
      if (!grouped[i]) rest.push_back(i);
  } else {
    rest.resize(n);
    std::iota(rest.begin(), rest.end(), 0);
  }
  score_plain(requests, rest, out, done, progress);
  return out;
}

void Scorer::score_plain(const std::vector<TokenRequest>& requests, const std::vector<int64_t>& subset,
                         std::vector<LogLikelihood>& out, int64_t done_before,
                         const std::function<void(int64_t)>& progress) {
  const int64_t n = int64_t(subset.size());
  // Longest first (lm-eval's Reorderer key -len(ctx + cont)); ties keep request order.
  std::vector<int64_t> order(subset);
  auto total = [&](int64_t i) { return requests[i].context.size() + requests[i].continuation.size(); };
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return total(a) > total(b); });

  const torch::Device dev = device();
  for (int64_t start = 0; start < n; start += opt_.batch) {
    const int64_t bsz = std::min(opt_.batch, n - start);
    std::vector<std::vector<int32_t>> inputs(bsz);
    std::vector<const std::vector<int32_t>*> rows(bsz);
    int64_t width = 1;
    for (int64_t b = 0; b < bsz; ++b) {
      inputs[b] = model_input(requests[order[start + b]], max_length_);
      rows[b] = &inputs[b];
      width = std::max<int64_t>(width, int64_t(inputs[b].size()));
    }
    torch::Tensor logits;  // (B, T, V)
    {
      kernels::compat::AutocastGuard autocast(opt_.bf16, dev.type());
      logits = model_->forward(kernels::compat::to_device(padded_rows(rows, 0, width), dev));
    }
    stats_.positions += bsz * width;
    for (int64_t b = 0; b < bsz; ++b) {
      const TokenRequest& r = requests[order[start + b]];
      const int64_t inplen = int64_t(inputs[b].size());
      out[order[start + b]] = continuation_ll(logits[b], inplen - int64_t(r.continuation.size()), r.continuation, dev);
    }
    if (progress) progress(done_before + start + bsz);
  }
}

int64_t Scorer::score_group(const std::vector<TokenRequest>& requests, const std::vector<std::vector<int32_t>>& inputs,
                            const PrefixGroup& group, std::vector<LogLikelihood>& out, int64_t done_before,
                            const std::function<void(int64_t)>& progress) {
  const int64_t P = group.prefix, n = int64_t(group.members.size());
  std::vector<int64_t> order(group.members);  // longest suffix first: the least padding per batch
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return inputs[a].size() > inputs[b].size(); });
  const torch::Device dev = device();
  // Prefill the shared prefix once, batch 1: cache K/V (1, G, capacity, D) per executed layer.
  const std::vector<int32_t>& head = inputs[order[0]];
  arch::KVCache prefix = model_->new_cache(int64_t(head.size()), dev);
  {
    const std::vector<int32_t> pre(head.begin(), head.begin() + P);
    kernels::compat::AutocastGuard autocast(opt_.bf16, dev.type());
    // No logits: the prefix ends before the first scored position.
    model_->forward_cached(kernels::compat::to_device(padded_rows({&pre}, 0, P), dev), prefix,
                           arch::CausalLMImpl::Logits::kNone);
  }
  stats_.positions += P;
  stats_.groups += 1;
  stats_.shared_requests += n;
  for (int64_t start = 0; start < n; start += opt_.batch) {
    const int64_t bsz = std::min(opt_.batch, n - start);
    const int64_t width = int64_t(inputs[order[start]].size()) - P;  // the longest suffix of this batch
    // The prefix's K/V, repeated to one row per request: (B, G, P + width, D) per layer.
    arch::KVCache c;
    c.capacity = P + width;
    c.length = P;
    c.rope = prefix.rope;  // (head.size() >= P + width, D): forward_cached slices its rows
    for (size_t s = 0; s < prefix.k.size(); ++s) {
      for (auto [src, dst] : {std::make_pair(&prefix.k[s], &c.k), std::make_pair(&prefix.v[s], &c.v)}) {
        torch::Tensor t = torch::empty({bsz, src->size(1), P + width, src->size(3)}, src->options());
        t.narrow(2, 0, P).copy_(src->narrow(2, 0, P));  // broadcast over the rows
        dst->push_back(t);
      }
    }
    std::vector<const std::vector<int32_t>*> rows(bsz);
    for (int64_t b = 0; b < bsz; ++b) rows[b] = &inputs[order[start + b]];
    torch::Tensor logits;  // (B, width, V): position t is input position P + t
    {
      kernels::compat::AutocastGuard autocast(opt_.bf16, dev.type());
      logits = model_->forward_cached(kernels::compat::to_device(padded_rows(rows, P, width), dev), c);
    }
    stats_.positions += bsz * width;
    for (int64_t b = 0; b < bsz; ++b) {
      const int64_t r = order[start + b];
      const std::vector<int32_t>& cont = requests[r].continuation;
      out[r] = continuation_ll(logits[b], int64_t(inputs[r].size() - cont.size()) - P, cont, dev);
    }
    if (progress) progress(done_before + start + bsz);
  }
  return n;
}

}  // namespace sharelab::eval
