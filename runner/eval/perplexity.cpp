// Rolling (lm-eval wikitext) and chunked (MobileLLM) perplexities (see perplexity.h).
#include "runner/eval/perplexity.h"

#include "kernels/torch_compat.h"

#include <cmath>

#include "runner/eval/wikitext.h"

namespace sharelab::eval {

RollingPerplexity rolling_perplexity(Scorer& scorer, const TextEncoder& enc, const std::vector<std::string>& pages,
                                     BosPolicy bos, bool detokenize, const std::function<void(int64_t)>& progress) {
  RollingPerplexity r;
  const int32_t prefix = bos == BosPolicy::kBos ? enc.bos_id() : enc.eos_id();
  for (const std::string& page : pages) {
    const std::vector<int32_t> tokens = enc.encode(detokenize ? wikitext_detokenize(page) : page);
    double ll = 0;
    for (const auto& w : scorer.score(rolling_windows(tokens, prefix, scorer.max_length()))) ll += w.ll;
    const PageCounts c = page_counts(page);  // counted on the original page, as lm-eval does
    r.page_ll.push_back(ll);
    r.ll += ll;
    r.words += c.words;
    r.bytes += c.bytes;
    r.tokens += int64_t(tokens.size());
    ++r.pages;
    if (progress) progress(r.pages);
  }
  if (r.words > 0) r.word_perplexity = std::exp(-r.ll / double(r.words));
  if (r.bytes > 0) {
    r.byte_perplexity = std::exp(-r.ll / double(r.bytes));
    r.bits_per_byte = -r.ll / double(r.bytes) / std::log(2.0);
  }
  return r;
}

TokenPerplexity chunk_perplexity(arch::CausalLM model, const std::vector<std::vector<int32_t>>& chunks, int64_t batch,
                                 bool bf16, const std::function<void(int64_t)>& progress) {
  TokenPerplexity r;
  if (chunks.empty()) return r;
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Device dev = model->tok_emb->weight.device();
  const int64_t len = int64_t(chunks[0].size());
  double sum_mean_nll = 0;
  for (size_t start = 0; start < chunks.size(); start += size_t(batch)) {
    const int64_t bsz = std::min<int64_t>(batch, int64_t(chunks.size() - start));
    torch::Tensor t = torch::empty({bsz, len}, torch::kLong);  // (B, chunk)
    auto a = t.accessor<int64_t, 2>();
    for (int64_t b = 0; b < bsz; ++b) {
      TORCH_CHECK(int64_t(chunks[start + b].size()) == len, "chunk_perplexity: chunks differ in length");
      for (int64_t k = 0; k < len; ++k) a[b][k] = chunks[start + b][k];
    }
    t = kernels::compat::to_device(t, dev);  // CUDA: pinned, non-blocking
    torch::Tensor logits;  // (B, chunk-1, V)
    {
      kernels::compat::AutocastGuard autocast(bf16, dev.type());
      logits = model->forward(t.slice(1, 0, len - 1));
    }
    // Per-chunk mean cross-entropy in fp32: (B, chunk-1) -> (B)
    torch::Tensor nll = torch::nn::functional::cross_entropy(
        logits.to(torch::kFloat).reshape({-1, logits.size(-1)}), t.slice(1, 1, len).reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    sum_mean_nll += nll.view({bsz, len - 1}).mean(1).sum().to(torch::kDouble).item<double>();
    r.chunks += bsz;
    if (progress) progress(r.chunks);
  }
  r.tokens = r.chunks * len;
  r.mean_nll = sum_mean_nll / double(r.chunks);
  r.perplexity = std::exp(r.mean_nll);
  return r;
}

std::vector<std::vector<int32_t>> mobilellm_chunks(const TextEncoder& enc, const std::string& file_text,
                                                   int64_t chunk) {
  // The HF dataset's "text" rows are the file's lines with their "\n"; MobileLLM joins them with "\n\n".
  std::string joined;
  for (size_t pos = 0; pos < file_text.size();) {
    size_t end = file_text.find('\n', pos);
    end = end == std::string::npos ? file_text.size() : end + 1;
    if (pos > 0) joined += "\n\n";
    joined.append(file_text, pos, end - pos);
    pos = end;
  }
  std::vector<int32_t> tokens = enc.encode(joined);
  tokens.insert(tokens.begin(), enc.bos_id());  // the HF tokenizer adds BOS
  return token_chunks(tokens, chunk);
}

}  // namespace sharelab::eval
