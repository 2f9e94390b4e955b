// The torch-free half of the evaluation harness: Python string semantics, HellaSwag
// preprocessing, acc vs acc_norm (code points, not bytes), MC2, Winogrande partial requests,
// few-shot prefixes, request encoding, rolling windows and the WikiText detokenizer.
// Expected values are worked out by hand in the comments (and agree with CPython 3.11).
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "common/errors.h"
#include "runner/eval/fewshot.h"
#include "runner/eval/metrics.h"
#include "runner/eval/request.h"
#include "runner/eval/task_readers.h"
#include "runner/eval/text_util.h"
#include "runner/eval/wikitext.h"

using namespace sharelab::eval;

namespace {

// Byte-level tokenizer with one merge, " y" -> 300, so the joint encoding differs from the
// concatenation of the parts (as SentencePiece's "▁y" does). ids: byte + 3, BOS 1, EOS 2.
struct MergeEncoder : TextEncoder {
  std::vector<int32_t> encode(const std::string& s) const override {
    std::vector<int32_t> out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == ' ' && i + 1 < s.size() && s[i + 1] == 'y') {
        out.push_back(300);
        ++i;
      } else {
        out.push_back(int32_t(static_cast<unsigned char>(s[i])) + 3);
      }
    }
    return out;
  }
  int32_t bos_id() const override { return 1; }
  int32_t eos_id() const override { return 2; }
};

int32_t b(char c) { return int32_t(c) + 3; }

}  // namespace

TEST_CASE("Python string semantics: len, strip, capitalize, single-pass replace, split count") {
  CHECK(code_points("abc") == 3);
  CHECK(code_points("\xC3\xA9t\xC3\xA9") == 3);           // "été": 5 bytes, 3 code points
  CHECK(code_points("\xF0\x9F\xA6\x99") == 1);             // one emoji, 4 bytes
  CHECK(py_strip("\xC2\xA0 x y\t\n") == "x y");            // NBSP is whitespace for str.strip()
  CHECK(py_rstrip("  a b  ") == "  a b");
  CHECK(py_capitalize("hELLO wORLD \xC3\x89" "COLE") == "Hello world \xC3\xA9" "cole");  // rest lower-cased
  CHECK(py_capitalize("\xC3\xA9lan VITAL") == "\xC3\x89lan vital");
  CHECK(py_capitalize("") == "");
  CHECK(py_replace("a   b", "  ", " ") == "a  b");        // three spaces -> two, not one
  CHECK(py_replace("aaaa", "aa", "a") == "aa");
  CHECK(py_split_ws_count("a b") == 2);
  CHECK(py_split_ws_count(" a  b \n") == 4);               // ['', 'a', 'b', '']
}

TEST_CASE("HellaSwag preprocessing on tricky strings") {
  // strip; " [title]" -> ". "; every [..] dropped (non-greedy); then ONE pass of "  " -> " ".
  CHECK(hellaswag_preprocess("  A man [header] is   standing [title] here [step] .  ") ==
        "A man is  standing. here .");
  // '.' does not cross a newline: "[oops it\n" and "[a\nb]" stay, "[x]" goes; strip() ran before
  // the removal, so the space in front of "[x]" stays.
  CHECK(hellaswag_preprocess("Fix [oops it\n[a\nb] now [x]") == "Fix [oops it\n[a\nb] now ");
  CHECK(hellaswag_preprocess("[a][b]c") == "c");
}

TEST_CASE("acc and acc_norm diverge, acc_norm divides by code points, not bytes") {
  McDoc doc;
  doc.choices = {"\xC3\xA9", "ab"};  // "é" (1 code point, 2 bytes) and "ab" (2 code points)
  doc.gold = 1;
  const std::vector<double> ll = {-3.0, -5.0};
  CHECK(acc(doc, ll) == 0.0);       // argmax ll = 0
  CHECK(acc_norm(doc, ll) == 1.0);  // -3/1 = -3 < -5/2 = -2.5 -> choice 1 (by bytes: -1.5 > -2.5 -> 0)
  doc.gold = 0;
  CHECK(acc(doc, {-2.0, -2.0}) == 1.0);  // ties go to the lowest index
  CHECK(acc_norm(doc, {-2.0, -4.0}) == 1.0);  // -2/1 = -2 vs -4/2 = -2: tie -> index 0
}

TEST_CASE("MC2 is the normalised probability mass of the true answers") {
  McDoc doc;
  doc.choices = {"t1", "t2", "f1"};
  doc.mc2_labels = {1, 1, 0};
  // p = (0.2, 0.1, 0.3) / 0.6 -> (0.2 + 0.1) / 0.6 = 0.5
  CHECK(mc2(doc, {std::log(0.2), std::log(0.1), std::log(0.3)}) == doctest::Approx(0.5).epsilon(1e-12));
  // Log-likelihoods far below exp()'s range still give the same normalised mass.
  CHECK(mc2(doc, {-2000 + std::log(0.2), -2000 + std::log(0.1), -2000 + std::log(0.3)}) ==
        doctest::Approx(0.5).epsilon(1e-12));
}

TEST_CASE("mean and sample standard error of the mean") {
  const MeanStderr m = mean_stderr({1, 0, 1, 1});
  CHECK(m.mean == doctest::Approx(0.75));
  CHECK(m.stderr_ == doctest::Approx(0.25));  // sample var ((3 * 0.0625) + 0.5625) / 3 = 0.25; sd 0.5 / sqrt(4)
  CHECK(m.n == 4);
}

TEST_CASE("Winogrande partial scoring: the option goes into the context, the suffix is scored") {
  TaskData t;
  t.name = "winogrande";
  t.scoring = Scoring::kPartial;
  McDoc d;
  d.choices = {"Sarah", "Maria"};
  const std::string s = "Sarah was better than Maria so _ got the easier cases.";
  const size_t i = s.find('_');
  for (const auto& o : d.choices) d.partial_contexts.push_back(s.substr(0, i) + o);
  d.partial_target = " got the easier cases.";
  d.gold = 1;
  d.text = d.partial_contexts[1];
  t.docs = {d, d};
  auto r = build_requests(t, 0, {});
  REQUIRE(r.size() == 2);
  CHECK(r[0].context == "Sarah was better than Maria so Sarah");
  CHECK(r[1].context == "Sarah was better than Maria so Maria");
  CHECK(r[0].continuation == " got the easier cases.");
  CHECK(r[1].continuation == r[0].continuation);
  // One shot (drawn from the other doc): its correct option's sentence, then "\n\n".
  r = build_requests(t, 0, {1});
  CHECK(r[0].context ==
        "Sarah was better than Maria so Maria got the easier cases.\n\nSarah was better than Maria so Sarah");
}

TEST_CASE("few-shot prefix, description and deterministic shot choice") {
  TaskData t;
  t.name = "mmlu";
  t.first_n_shots = true;
  for (int i = 0; i < 3; ++i) {
    McDoc d;
    d.subject = i == 1 ? "high_school_physics" : "anatomy";
    d.text = "Q" + std::to_string(i) + "\nAnswer:";
    d.choices = {"A", "B", "C", "D"};
    d.gold = i;
    t.fewshot_pool.push_back(d);
  }
  McDoc doc = t.fewshot_pool[0];
  doc.text = "Q?\nAnswer:";
  t.docs = {doc};
  const auto shots = choose_shots(t, 0, 2);
  CHECK(shots == std::vector<int64_t>{0, 2});  // first two of the same subject, file order
  const auto r = build_requests(t, 0, shots);
  REQUIRE(r.size() == 4);
  CHECK(r[0].context ==
        "The following are multiple choice questions (with answers) about anatomy.\n\n"
        "Q0\nAnswer: A\n\nQ2\nAnswer: C\n\nQ?\nAnswer:");
  CHECK(r[2].continuation == " C");
  CHECK_THROWS_AS(choose_shots(t, 0, 3), sharelab::ConfigError);  // only 2 anatomy dev examples

  TaskData arc;
  arc.name = "arc_challenge";
  for (int i = 0; i < 40; ++i) arc.docs.push_back(doc);
  const auto a = choose_shots(arc, 7, 25), again = choose_shots(arc, 7, 25);
  CHECK(a == again);
  std::map<int64_t, int> seen;
  for (auto x : a) seen[x]++;
  CHECK(seen.size() == 25);   // without replacement
  CHECK(seen.count(7) == 0);  // never the document itself
  CHECK(choose_shots(arc, 8, 25) != a);
  arc.fewshot_allowed = false;
  CHECK_THROWS_AS(choose_shots(arc, 0, 1), sharelab::ConfigError);
}

TEST_CASE("request encoding: trailing space moves to the continuation, joint tokens, prefix token") {
  MergeEncoder enc;
  // "Q: " + "yes" -> ctx "Q:", cont " yes"; the joint encoding merges " y" into 300.
  TokenRequest r = encode_pair(enc, "Q: ", "yes", BosPolicy::kNone);
  CHECK(r.context == std::vector<int32_t>{b('Q'), b(':')});
  CHECK(r.continuation == std::vector<int32_t>{300, b('e'), b('s')});
  // Empty context: EOS (v0.3) or BOS as the only context token.
  r = encode_pair(enc, "", "hi", BosPolicy::kNone);
  CHECK(r.context == std::vector<int32_t>{2});
  CHECK(r.continuation == std::vector<int32_t>{b('h'), b('i')});
  r = encode_pair(enc, "x", " y", BosPolicy::kBos);
  CHECK(r.context == std::vector<int32_t>{1, b('x')});
  CHECK(r.continuation == std::vector<int32_t>{300});
}

TEST_CASE("rolling windows: disjoint predictions covering every token once") {
  std::vector<int32_t> t;
  for (int i = 0; i < 10; ++i) t.push_back(100 + i);
  auto w = rolling_windows(t, 2, 4);
  // L = 4: predict t[0:4] from [EOS]; later windows have context t[end-L-1 : end-pred].
  REQUIRE(w.size() == 3);
  CHECK(w[0].context == std::vector<int32_t>{2});
  CHECK(w[0].continuation == std::vector<int32_t>{100, 101, 102, 103});
  CHECK(w[1].context == std::vector<int32_t>{103});  // end 8, pred 4: t[3:4]
  CHECK(w[1].continuation == std::vector<int32_t>{104, 105, 106, 107});
  CHECK(w[2].context == std::vector<int32_t>{105, 106, 107});  // end 10, pred 2: t[5:8], input t[5:9] (4 tokens)
  CHECK(w[2].continuation == std::vector<int32_t>{108, 109});
  // One window covers it all when max_len >= len.
  w = rolling_windows(t, 2, 16);
  REQUIRE(w.size() == 1);
  CHECK(w[0].continuation == t);
  CHECK(token_chunks(t, 4).size() == 2);  // 10 tokens -> two chunks of 4, tail of 2 dropped
}

TEST_CASE("WikiText detokenizer and page counts (on the original page)") {
  const std::string page =
      " = Robert Boulter = \n \n Robert Boulter 's role ( in 2000 ) was a guest @-@ starring \" big \" part , worth 1 "
      "@,@ 000 at 3 @.@ 5 \xC2\xB0 C . \n \n = = Career = = \n The players ' pay was N dollars [ 1 ] . \n";
  CHECK(wikitext_detokenize(page) ==
        " = Robert Boulter =\n\nRobert Boulter's role (in 2000) was a guest-starring \"big\" part, worth 1,000 at "
        "3.5\xC2\xB0" "C.\n\n== Career ==\nThe players' pay was 1 dollars [1].\n");
  const PageCounts c = page_counts(page);
  CHECK(c.words == 51);   // len(re.split(r"\s+", page)), CPython
  CHECK(c.bytes == 195);  // len(page.encode("utf-8"))
  const auto pages = split_wikitext_pages(" \n = A = \n x \n \n = = Sub = = \n y \n = B = \n z \n");
  REQUIRE(pages.size() == 2);
  CHECK(pages[0] == " = A = \n x \n \n = = Sub = = \n y \n");
  CHECK(pages[1] == " = B = \n z \n");
  CHECK(is_tokenized_wikitext(page));
}
