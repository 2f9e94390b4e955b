// Request encoding and rolling windows (see request.h).
#include "runner/eval/request.h"

#include "common/errors.h"
#include "runner/eval/text_util.h"

namespace sharelab::eval {

BosPolicy parse_bos_policy(const std::string& text) {
  if (text == "none") return BosPolicy::kNone;
  if (text == "bos") return BosPolicy::kBos;
  throw ConfigError("--bos '" + text + "': expected 'none' (lm-eval v0.3 / leaderboard v1) or 'bos'");
}

std::string to_string(BosPolicy p) { return p == BosPolicy::kNone ? "none" : "bos"; }

TokenRequest encode_pair(const TextEncoder& enc, const std::string& context, const std::string& continuation,
                         BosPolicy bos) {
  std::string ctx = context, cont = continuation;
  const std::string kept = py_rstrip(ctx);
  if (kept.size() < ctx.size()) {  // n = len(ctx) - len(ctx.rstrip()); cont = ctx[-n:] + cont
    cont = ctx.substr(kept.size()) + cont;
    ctx = kept;
  }
  TokenRequest r;
  if (ctx.empty()) {
    r.context = {bos == BosPolicy::kBos ? enc.bos_id() : enc.eos_id()};
    r.continuation = enc.encode(cont);
    return r;
  }
  const std::vector<int32_t> whole = enc.encode(ctx + cont);
  r.context = enc.encode(ctx);
  const size_t n = std::min(r.context.size(), whole.size());
  r.continuation.assign(whole.begin() + n, whole.end());
  if (bos == BosPolicy::kBos) r.context.insert(r.context.begin(), enc.bos_id());
  return r;
}

std::vector<TokenRequest> rolling_windows(const std::vector<int32_t>& t, int32_t prefix, int64_t max_len) {
  std::vector<TokenRequest> out;
  const int64_t n = int64_t(t.size());
  if (n == 0) return out;
  if (max_len < 1) throw ConfigError("rolling windows: max length must be >= 1, got " + std::to_string(max_len));
  // First window: context [prefix], continuation t[0:first] (input [prefix] + t[0:first-1]).
  const int64_t first = std::min(max_len, n);
  out.push_back({{prefix}, std::vector<int32_t>(t.begin(), t.begin() + first)});
  // Later windows (pred_len = max_len with context_len 1): after make_disjoint_window the context
  // is t[end-L-1 : end-pred] and the continuation t[end-pred : end].
  for (int64_t done = first; done < n;) {
    const int64_t pred = std::min(n - done, max_len);
    const int64_t end = done + pred;
    out.push_back({std::vector<int32_t>(t.begin() + (end - max_len - 1), t.begin() + (end - pred)),
                   std::vector<int32_t>(t.begin() + (end - pred), t.begin() + end)});
    done = end;
  }
  return out;
}

std::vector<std::vector<int32_t>> token_chunks(const std::vector<int32_t>& t, int64_t chunk) {
  std::vector<std::vector<int32_t>> out;
  if (chunk < 2) throw ConfigError("token perplexity: chunk length must be >= 2, got " + std::to_string(chunk));
  for (int64_t s = 0; s + chunk <= int64_t(t.size()); s += chunk)
    out.emplace_back(t.begin() + s, t.begin() + s + chunk);
  return out;
}

}  // namespace sharelab::eval
