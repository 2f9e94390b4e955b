// lm-eval request encoding, torch-free: (context, continuation) text -> token ids
// (base.py _encode_pair), and the rolling windows of loglikelihood_rolling (utils.py
// get_rolling_token_windows + make_disjoint_window). The scorer consumes TokenRequests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sharelab::eval {

// What the harness needs from a tokenizer; data::Tokenizer is adapted to it, tests use a
// character-level one. encode() adds no BOS/EOS.
struct TextEncoder {
  virtual ~TextEncoder() = default;
  virtual std::vector<int32_t> encode(const std::string& text) const = 0;
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
};

// kNone: lm-eval v0.3 / leaderboard v1 (no BOS; an empty context and rolling windows are
// conditioned on EOS). kBos: BOS starts every context (lm-eval >= 0.4.9.2 with LLaMA tokenizers).
enum class BosPolicy { kNone, kBos };
BosPolicy parse_bos_policy(const std::string& text);  // "none" | "bos"
std::string to_string(BosPolicy p);

struct TokenRequest {
  std::vector<int32_t> context, continuation;  // the model scores continuation given context
};

// 1. trailing whitespace of the context moves into the continuation; 2. the continuation's tokens
// are the joint encoding's tail: enc(ctx + cont)[len(enc(ctx)):]; 3. an empty context becomes the
// prefix token (EOS, or BOS under kBos).
TokenRequest encode_pair(const TextEncoder& enc, const std::string& context, const std::string& continuation,
                         BosPolicy bos);

// Disjoint rolling windows over `tokens` with context_len 1 and window `max_len`: the first one
// predicts tokens[0:L] from [prefix] + tokens[0:L-1]; later ones predict the next min(rest, L)
// tokens with the L tokens before them as input. Empty input -> no windows.
std::vector<TokenRequest> rolling_windows(const std::vector<int32_t>& tokens, int32_t prefix, int64_t max_len);

// Non-overlapping chunks of `chunk` tokens (MobileLLM/GPTQ token perplexity); the tail is dropped.
std::vector<std::vector<int32_t>> token_chunks(const std::vector<int32_t>& tokens, int64_t chunk);

}  // namespace sharelab::eval
