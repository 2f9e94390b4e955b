// The two perplexity families, kept apart because their numbers are not comparable:
//  - lm-eval `wikitext` (loglikelihood_rolling): per page, rolling windows of the model length over
//    the detokenized page; word_perplexity = exp(-sum ll / sum words), byte_perplexity =
//    exp(-sum ll / sum bytes), bits_per_byte = -sum ll / sum bytes / ln 2, words and bytes counted
//    on the original page (lm_eval/api/metrics.py weighted_perplexity, bits_per_byte).
//  - MobileLLM/GPTQ token perplexity (MobileLLM eval.py): non-overlapping chunks, tail dropped,
//    each chunk's mean next-token cross-entropy; ppl = exp(mean over chunks).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runner/eval/request.h"
#include "runner/eval/scorer.h"

namespace sharelab::eval {

struct RollingPerplexity {
  double ll = 0;  // sum over pages, natural log
  int64_t pages = 0, words = 0, bytes = 0, tokens = 0;
  double word_perplexity = 0, byte_perplexity = 0, bits_per_byte = 0;
  std::vector<double> page_ll;  // per page, for auditing
};

// Each page is detokenized when `detokenize` (lm-eval's wikitext task), encoded, split into
// rolling windows of scorer.max_length() with the policy's prefix token (EOS for kNone).
RollingPerplexity rolling_perplexity(Scorer& scorer, const TextEncoder& enc, const std::vector<std::string>& pages,
                                     BosPolicy bos, bool detokenize,
                                     const std::function<void(int64_t pages_done)>& progress = {});

struct TokenPerplexity {
  double perplexity = 0, mean_nll = 0;
  int64_t chunks = 0, tokens = 0;  // tokens = chunks x chunk length
};

// Mean over chunks of each chunk's mean cross-entropy of tokens[1:] given tokens[:-1], in fp32.
TokenPerplexity chunk_perplexity(arch::CausalLM model, const std::vector<std::vector<int32_t>>& chunks, int64_t batch,
                                 bool bf16, const std::function<void(int64_t chunks_done)>& progress = {});

// MobileLLM's text preparation: "\n\n".join(lines) with BOS first, cut into `chunk`-token pieces.
std::vector<std::vector<int32_t>> mobilellm_chunks(const TextEncoder& enc, const std::string& file_text,
                                                   int64_t chunk);

}  // namespace sharelab::eval
