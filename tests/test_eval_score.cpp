// The LibTorch half of the harness on a tiny `debug` model with a byte-level tokenizer: batched,
// padded, length-sorted scoring equals one unpadded forward per request; rolling perplexity equals
// the sum of its windows and a single pass when one window covers the text; chunk perplexity;
// evaluate_model's acc/acc_norm on a fixture ARC file equal the hand-computed argmaxes; and the
// shared-prefix path (the default) equals the plain one on synthetic few-shot tasks for several
// sharing schemes (tests/test_eval_context_cache.cpp does the same on the real task files).
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cmath>
#include <random>

#include "common/errors.h"
#include "arch/registry.h"
#include "runner/eval/evaluate.h"
#include "runner/eval/metrics.h"
#include "runner/eval/path_check.h"
#include "runner/eval/perplexity.h"
#include "runner/eval/scorer.h"
#include "runner/eval/text_util.h"
#include "eval_test_util.h"

using namespace sharelab;
using namespace sharelab::eval;

namespace {

using test::ByteEncoder;

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

namespace {

// Bytes, except ": " and "e " become one token each: the joint encoding of context + continuation
// then differs from enc(context) + enc(continuation) at "Answer:" + " x" (lm-eval's boundary case).
struct MergingEncoder : ByteEncoder {
  std::vector<int32_t> encode(const std::string& s) const override {
    std::vector<int32_t> out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (i + 1 < s.size() && s[i + 1] == ' ' && (s[i] == ':' || s[i] == 'e')) {
        out.push_back(s[i] == ':' ? 300 : 301);
        ++i;
      } else {
        out.push_back(int32_t((unsigned char)s[i]) + 3);
      }
    }
    return out;
  }
};

// A multiple-choice task (HellaSwag/ARC-shaped) and a Winogrande-shaped partial one, from a seed.
TaskData synthetic_task(Scoring scoring, int64_t docs, uint64_t seed) {
  const std::vector<std::string> words = {"the", "red", "fox", "ran", "over", "a", "lazy", "dog", "while", "it",
                                          "rained", "on", "green", "hills", "and", "slept", "here"};
  std::mt19937 rng(seed);
  auto phrase = [&](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += (i ? " " : "") + words[rng() % words.size()];
    return out;
  };
  TaskData t;
  t.name = scoring == Scoring::kChoice ? "synthetic_choice" : "synthetic_partial";
  t.scoring = scoring;
  t.fewshot_split = "eval-minus-doc";
  for (int64_t i = 0; i < docs; ++i) {
    McDoc d;
    d.id = "doc " + std::to_string(i);
    d.text = "Question: " + phrase(3 + int(rng() % 4)) + "?\nAnswer:";
    const int k = scoring == Scoring::kChoice ? 2 + int(rng() % 3) : 2;
    for (int c = 0; c < k; ++c) d.choices.push_back(phrase(1 + int(rng() % 5)));
    d.gold = int(rng() % k);
    if (scoring == Scoring::kPartial) {
      const std::string stem = phrase(4);
      for (const auto& c : d.choices) d.partial_contexts.push_back(stem + " " + c);
      d.partial_target = " " + phrase(3);
    }
    t.docs.push_back(d);
  }
  return t;
}

}  // namespace

TEST_CASE("plan_prefix_groups: choices of a document together, unrelated documents apart") {
  // Two documents of 3 and 2 requests (20-token contexts), and one with nothing shared.
  std::vector<std::vector<int32_t>> in;
  std::vector<int64_t> first;
  auto add = [&](int32_t doc, int32_t choice, int64_t ctx, int64_t cont) {
    std::vector<int32_t> x(ctx, doc);
    x[0] = 7;  // every input starts with the same token: one token in common is not worth a group
    for (int64_t i = 0; i < cont; ++i) x.push_back(100 + choice);
    in.push_back(x);
    first.push_back(ctx - 1);
  };
  add(1, 0, 20, 3);
  add(2, 0, 20, 2);
  add(1, 1, 20, 5);
  add(1, 2, 20, 1);
  add(2, 1, 20, 4);
  add(3, 0, 20, 4);
  const auto g = plan_prefix_groups(in, first);
  REQUIRE(g.size() == 2);
  CHECK(g[0].members == std::vector<int64_t>{0, 2, 3});
  CHECK(g[0].prefix == 19);  // stops before the first scored position (the last context token)
  CHECK(g[1].members == std::vector<int64_t>{1, 4});
  // A request whose scoring starts at position 0 (an empty context's prefix token) joins nothing.
  CHECK(plan_prefix_groups({{2, 5, 6}, {2, 5, 7}}, {0, 0}).empty());
}

TEST_CASE("shared-prefix scoring equals the plain path: synthetic tasks, sharing schemes, truncation") {
  MergingEncoder enc;
  const TaskData choice = synthetic_task(Scoring::kChoice, 12, 1);
  const TaskData partial = synthetic_task(Scoring::kPartial, 10, 2);
  // The boundary case is present: some continuation lost its leading space to a ": " merge.
  CHECK(encode_pair(enc, "Answer:", " fox", BosPolicy::kNone).continuation.size() == 3);
  const std::vector<std::vector<std::string>> schemes = {
      {}, {"scheme=immediate", "repeats=2"}, {"scheme=shared-ffn"}, {"scheme=cycle", "unique_blocks=2"}};
  for (const auto& scheme : schemes) {
    std::vector<std::string> o = scheme;
    o.push_back("max_seq_len=512");
    torch::manual_seed(0);
    arch::CausalLM m(arch::resolve_preset("debug", o));
    m->reset_parameters(11);
    m->eval();
    for (const TaskData* task : {&choice, &partial}) {
      for (const int64_t shots : {int64_t(0), int64_t(3)}) {
        for (const BosPolicy bos : {BosPolicy::kNone, BosPolicy::kBos}) {
          const DocRequests d = doc_requests(*task, enc, int64_t(task->docs.size()), shots, bos);
          CAPTURE(scheme.empty() ? "none" : scheme[0]);
          CAPTURE(task->name);
          CAPTURE(shots);
          Scorer plain(m, {/*batch=*/3, 0, false, /*share_prefix=*/false});
          Scorer shared(m, {3, 0, false, true});
          const auto a = plain.score(d.requests);
          const auto b = shared.score(d.requests);
          const PathAgreement p = compare_paths(*task, d, a, b);
          CHECK(p.max_rel <= 1e-5);
          CHECK(p.greedy_differs == 0);
          CHECK(p.docs_differ == 0);
          CHECK(plain.last_stats().shared_requests == 0);
          // Every request of a multiple-choice document shares its context; in the partial task only
          // the few-shot prefix and the stem are shared. A group is a document or more.
          CHECK(shared.last_stats().shared_requests == int64_t(d.requests.size()));
          CHECK(shared.last_stats().groups <= d.docs());
          CHECK(shared.last_stats().positions < plain.last_stats().positions);
        }
      }
    }
    // Left truncation (L = 40 < most inputs): the inputs of one document no longer share a prefix
    // (they start at different offsets); whatever is grouped, the results stay the same.
    const DocRequests d = doc_requests(choice, enc, 6, 3, BosPolicy::kNone);
    const auto a = Scorer(m, {4, 40, false, false}).score(d.requests);
    const auto b = Scorer(m, {4, 40, false, true}).score(d.requests);
    CHECK(compare_paths(choice, d, a, b).same());
  }
}

TEST_CASE("shared-prefix scoring under bf16 autocast stays close to the plain path") {
  auto m = tiny_model(512);
  MergingEncoder enc;
  const TaskData choice = synthetic_task(Scoring::kChoice, 6, 3);
  const DocRequests d = doc_requests(choice, enc, 6, 2, BosPolicy::kNone);
  const auto a = Scorer(m, {4, 0, true, false}).score(d.requests);
  const auto b = Scorer(m, {4, 0, true, true}).score(d.requests);
  for (size_t k = 0; k < a.size(); ++k) CHECK(std::fabs(a[k].ll - b[k].ll) < 0.02 * std::fabs(a[k].ll) + 0.1);
}
