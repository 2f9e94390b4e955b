// The LibTorch half of the harness on a tiny `debug` model with a byte-level tokenizer: batched,
// padded, length-sorted scoring equals one unpadded forward per request; rolling perplexity equals
// the sum of its windows and a single pass when one window covers the text; chunk perplexity;
// and evaluate_model's acc/acc_norm on a fixture ARC file equal the hand-computed argmaxes.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cmath>

#include "common/errors.h"
#include "arch/registry.h"
#include "runner/eval/evaluate.h"
#include "runner/eval/metrics.h"
#include "runner/eval/perplexity.h"
#include "runner/eval/scorer.h"
#include "runner/eval/text_util.h"

using namespace sharelab;
using namespace sharelab::eval;

namespace {

struct ByteEncoder : TextEncoder {  // ids = byte + 3 (< 259 <= debug vocab 512); BOS 1, EOS 2
  std::vector<int32_t> encode(const std::string& s) const override {
    std::vector<int32_t> out;
    for (unsigned char c : s) out.push_back(int32_t(c) + 3);
    return out;
  }
  int32_t bos_id() const override { return 1; }
  int32_t eos_id() const override { return 2; }
};

arch::CausalLM tiny_model(int64_t max_seq = 128) {
  torch::manual_seed(0);
  arch::ModelSpec s = arch::resolve_preset("debug", {"max_seq_len=" + std::to_string(max_seq)});
  arch::CausalLM m(s);
  m->reset_parameters(7);
  m->eval();
  return m;
}

// Reference: one unbatched forward of `input`, sum of log p(targets[k] | input[:start + k + 1]).
double direct_ll(arch::CausalLM& m, const std::vector<int32_t>& input, int64_t start,
                 const std::vector<int32_t>& targets) {
  torch::NoGradGuard g;
  auto x = torch::tensor(std::vector<int64_t>(input.begin(), input.end())).unsqueeze(0);
  auto logp = m->forward(x)[0].to(torch::kDouble).log_softmax(-1);  // (T, V)
  double ll = 0;
  for (size_t k = 0; k < targets.size(); ++k) ll += logp[start + int64_t(k)][targets[k]].item<double>();
  return ll;
}

}  // namespace

TEST_CASE("batched, padded, sorted scoring equals one unpadded forward per request") {
  auto m = tiny_model();
  ByteEncoder enc;
  std::vector<TokenRequest> reqs = {encode_pair(enc, "Question: sky?\nAnswer:", " blue", BosPolicy::kNone),
                                    encode_pair(enc, "Hi", " there, a much longer continuation", BosPolicy::kNone),
                                    encode_pair(enc, "", "no context at all", BosPolicy::kNone),
                                    encode_pair(enc, "x", " y", BosPolicy::kBos)};
  Scorer scorer(m, {/*batch=*/3, /*max_length=*/0, /*bf16=*/false});
  const auto got = scorer.score(reqs);
  REQUIRE(got.size() == reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    std::vector<int32_t> whole = reqs[i].context;
    whole.insert(whole.end(), reqs[i].continuation.begin(), reqs[i].continuation.end());
    const std::vector<int32_t> input(whole.begin(), whole.end() - 1);
    const double want = direct_ll(m, input, int64_t(reqs[i].context.size()) - 1, reqs[i].continuation);
    CHECK(got[i].ll == doctest::Approx(want).epsilon(1e-5));
    CHECK(got[i].tokens == int64_t(reqs[i].continuation.size()));
  }
  // Left truncation keeps the whole continuation: with L = 8 the input is the last 8 tokens.
  Scorer short_scorer(m, {2, 8, false});
  const auto cut = short_scorer.score({reqs[0]});
  std::vector<int32_t> whole = reqs[0].context;
  whole.insert(whole.end(), reqs[0].continuation.begin(), reqs[0].continuation.end());
  const std::vector<int32_t> input(whole.end() - 9, whole.end() - 1);  // (ctx + cont)[-(L+1):][:-1]
  CHECK(cut[0].ll == doctest::Approx(direct_ll(m, input, 8 - 5, reqs[0].continuation)).epsilon(1e-5));
}

TEST_CASE("rolling perplexity: sum of its windows, and a single pass when one window covers it") {
  auto m = tiny_model();
  ByteEncoder enc;
  const std::string text = "The quick brown fox jumps over the lazy dog.";  // 44 tokens
  const auto t = enc.encode(text);
  REQUIRE(t.size() == 44);

  // L = 16: windows predict t[0:16] | t[16:32] | t[32:44]; inputs [EOS]+t[0:15], t[15:31], t[27:43].
  Scorer s16(m, {4, 16, false});
  const RollingPerplexity r16 = rolling_perplexity(s16, enc, {text}, BosPolicy::kNone, /*detokenize=*/false);
  auto slice = [&](int64_t a, int64_t b) { return std::vector<int32_t>(t.begin() + a, t.begin() + b); };
  std::vector<int32_t> first = {2};
  const auto head = slice(0, 15);
  first.insert(first.end(), head.begin(), head.end());
  const double w1 = direct_ll(m, first, 0, slice(0, 16));
  const double w2 = direct_ll(m, slice(15, 31), 0, slice(16, 32));
  const double w3 = direct_ll(m, slice(27, 43), 16 - 12, slice(32, 44));  // last window reaches back
  CHECK(r16.ll == doctest::Approx(w1 + w2 + w3).epsilon(1e-5));
  CHECK(r16.tokens == 44);

  // L = 64 >= 44: one window, i.e. one forward of [EOS] + t[0:43] predicting every token.
  Scorer s64(m, {4, 64, false});
  const RollingPerplexity r64 = rolling_perplexity(s64, enc, {text}, BosPolicy::kNone, false);
  std::vector<int32_t> all = {2};
  all.insert(all.end(), t.begin(), t.end() - 1);
  CHECK(r64.ll == doctest::Approx(direct_ll(m, all, 0, t)).epsilon(1e-5));
  // Aggregates: 9 words ("The ... dog." split on whitespace), 44 bytes.
  CHECK(r64.words == 9);
  CHECK(r64.bytes == 44);
  CHECK(r64.word_perplexity == doctest::Approx(std::exp(-r64.ll / 9)));
  CHECK(r64.bits_per_byte == doctest::Approx(-r64.ll / 44 / std::log(2.0)));
}

TEST_CASE("chunk perplexity is exp of the mean per-chunk cross-entropy") {
  auto m = tiny_model();
  std::vector<std::vector<int32_t>> chunks = {{5, 6, 7, 8, 9, 10}, {11, 12, 13, 14, 15, 16}, {3, 3, 3, 3, 3, 3}};
  const TokenPerplexity p = chunk_perplexity(m, chunks, 2, false);
  double sum = 0;
  for (const auto& c : chunks) {
    const std::vector<int32_t> input(c.begin(), c.end() - 1), target(c.begin() + 1, c.end());
    sum += -direct_ll(m, input, 0, target) / 5.0;
  }
  CHECK(p.chunks == 3);
  CHECK(p.tokens == 18);
  CHECK(p.perplexity == doctest::Approx(std::exp(sum / 3)).epsilon(1e-5));
}

TEST_CASE("bf16 autocast scoring stays close to fp32") {
  auto m = tiny_model();
  ByteEncoder enc;
  std::vector<TokenRequest> reqs = {encode_pair(enc, "Question: sky?\nAnswer:", " blue", BosPolicy::kNone)};
  const double fp32 = Scorer(m, {1, 0, false}).score(reqs)[0].ll;
  const double bf16 = Scorer(m, {1, 0, true}).score(reqs)[0].ll;
  CHECK(std::fabs(bf16 - fp32) < 0.05 * std::fabs(fp32) + 0.1);
}

TEST_CASE("evaluate_model on a fixture ARC file: rows equal the hand-computed argmaxes") {
  auto m = tiny_model();
  ByteEncoder enc;
  EvalOptions opt;
  opt.tasks = {"arc_challenge"};
  opt.tasks_dir = std::string(SHARELAB_SOURCE_DIR) + "/tests/fixtures/eval/tasks";
  opt.progress = false;
  opt.batch = 4;
  const auto rows = evaluate_model(m, enc, "run-x", opt);
  REQUIRE(rows.size() == 2);  // acc, acc_norm

  // The same requests by hand: "Question: <stem>\nAnswer:" + " " + choice, gold from the key
  // (numeric "2" -> B -> index 1), acc_norm by code points ("été" is 3, not 5).
  struct Doc { std::string stem; std::vector<std::string> choices; int gold; };
  const std::vector<Doc> docs = {{"What is hot?", {"fire", "ice"}, 0},
                                 {"Pick one \xC3\xA9", {"\xC3\xA9t\xC3\xA9", "winter", "ab"}, 1},
                                 {"Color of sky?", {"blue", "green", "red", "x"}, 3}};
  Scorer scorer(m, {4, 0, false});
  double acc_sum = 0, norm_sum = 0;
  for (const auto& d : docs) {
    std::vector<double> ll, norm;
    for (const auto& c : d.choices) {
      const auto r = encode_pair(enc, "Question: " + d.stem + "\nAnswer:", " " + c, BosPolicy::kNone);
      ll.push_back(scorer.score({r})[0].ll);
      norm.push_back(ll.back() / double(code_points(c)));
    }
    acc_sum += argmax_first(ll) == d.gold;
    norm_sum += argmax_first(norm) == d.gold;
  }
  for (const auto& r : rows) {
    CHECK(r.run_id == "run-x");
    CHECK(r.task == "arc_challenge");
    CHECK(r.n == 3);
    CHECK(r.shots == 0);
    CHECK(r.protocol == "mobilellm");
    if (r.metric == "acc") CHECK(r.value == doctest::Approx(acc_sum / 3));
    if (r.metric == "acc_norm") CHECK(r.value == doctest::Approx(norm_sum / 3));
  }
  // leaderboard-v1 asks 25 shots of ARC-C: this 3-record file cannot supply them.
  opt.protocol = "leaderboard-v1";
  CHECK_THROWS_AS(evaluate_model(m, enc, "run-x", opt), ConfigError);
  opt.shots = 2;  // explicit: two shots from the other records; indices stored for the audit
  const auto shot_rows = evaluate_model(m, enc, "run-x", opt);
  CHECK(shot_rows[0].shots == 2);
  CHECK(shot_rows[0].details_json.find("\"fewshot_indices\":[[") != std::string::npos);
}
