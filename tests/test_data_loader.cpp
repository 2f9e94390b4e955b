// Amber jsonl -> shards -> ShardLoader: the same ids come back; the order is deterministic and
// resumable; ranks are disjoint and covering; weights repeat a source and epochs say so; a shorter
// seq_len cuts stored rows by the documented rule.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "common/errors.h"
#include "runner/data/loader.h"
#include "runner/data/manifest.h"
#include "runner/data/prepare.h"
#include "test_data_util.h"

using namespace sharelab::data;
using namespace sharelab::data::testing;

namespace {

constexpr int kSeq = 16, kCols = kSeq + 1, kVocab = 1000;

// Two Amber sources: "a" (40 rows, weight 1) and "b" (20 rows in two files, weight 2).
struct Prepared {
  TempDir tmp;
  std::string out;
  explicit Prepared(double val_fraction = 0.25) {
    write_amber(tmp / "a.jsonl", 1, 40, kCols, kVocab);
    write_amber(tmp / "b1.jsonl", 2, 10, kCols, kVocab);
    write_amber(tmp / "b2.jsonl", 3, 10, kCols, kVocab);
    write_text(tmp / "mix.toml", "[mix]\nseq_len = 16\nval_fraction = " + std::to_string(val_fraction) +
                                     "\nvocab_size = 1000\n"
                                     "[[source]]\nname = \"a\"\npath = \"a.jsonl\"\nreader = \"amber-jsonl\"\n"
                                     "[[source]]\nname = \"b\"\npath = \"b*.jsonl\"\nreader = \"amber-jsonl\"\n"
                                     "weight = 2\n");
    PrepareOptions o;
    o.mix_path = tmp / "mix.toml";
    o.out_dir = tmp / "shards";
    o.progress = false;
    o.shard_tokens = 7 * kCols;  // several shards per split
    prepare_data(o);
    out = o.out_dir;
  }
};

LoaderOptions opts(uint64_t seed = 0, int rank = 0, int world = 1, int64_t seq = 0) {
  LoaderOptions o;
  o.seed = seed, o.rank = rank, o.world_size = world, o.seq_len = seq, o.log_epochs = false;
  return o;
}

std::vector<std::vector<int32_t>> rows_of(const TokenBatch& b) {
  std::vector<std::vector<int32_t>> out;
  for (int64_t r = 0; r < b.rows; ++r)
    out.emplace_back(b.tokens.begin() + r * b.cols, b.tokens.begin() + (r + 1) * b.cols);
  return out;
}

}  // namespace

TEST_CASE("the document split follows val_fraction even for ids that differ in one character") {
  // Unmixed FNV-1a sent all 300 rows of such a file to train at val_fraction 0.5.
  TempDir tmp;
  write_amber(tmp / "x.jsonl", 4, 300, kCols, kVocab);
  write_text(tmp / "mix.toml", "[mix]\nseq_len = 16\nval_fraction = 0.5\nvocab_size = 1000\n"
                               "[[source]]\nname = \"x\"\npath = \"x.jsonl\"\nreader = \"amber-jsonl\"\n");
  PrepareOptions o;
  o.mix_path = tmp / "mix.toml";
  o.out_dir = tmp / "shards";
  o.progress = false;
  prepare_data(o);
  const Manifest m = Manifest::load(o.out_dir);
  CHECK(m.sources[0].rows[kVal] > 110);  // 150 expected; binomial sd ~8.7
  CHECK(m.sources[0].rows[kVal] < 190);
}

TEST_CASE("Amber jsonl -> shards -> loader returns exactly the input rows") {
  Prepared p;
  const Manifest m = Manifest::load(p.out);
  CHECK(m.dtype == "uint16");
  CHECK(m.seq_len == kSeq);
  CHECK(m.tokenizer_sha256.empty());
  REQUIRE(m.sources.size() == 2);
  CHECK(m.sources[0].rows[kTrain] + m.sources[0].rows[kVal] == 40);
  CHECK(m.sources[1].rows[kTrain] + m.sources[1].rows[kVal] == 20);
  CHECK(m.sources[0].rows[kVal] > 0);  // 25% of 40 documents: some land in val
  CHECK(m.shards.size() > 2);

  std::set<std::vector<int32_t>> want_a, want_b;
  for (int l = 1; l <= 40; ++l) {
    auto ids = amber_ids(1, l, kCols, kVocab);
    want_a.insert(std::vector<int32_t>(ids.begin(), ids.end()));
  }
  for (int salt : {2, 3})
    for (int l = 1; l <= 10; ++l) {
      auto ids = amber_ids(salt, l, kCols, kVocab);
      want_b.insert(std::vector<int32_t>(ids.begin(), ids.end()));
    }
  std::set<std::vector<int32_t>> got_a, got_b;
  for (const char* split : {"train", "val"}) {
    ShardLoader ld(p.out, split, opts());
    // The val split ignores weights: one pass = every stored row once.
    const int64_t n = ld.rows_per_epoch();
    const TokenBatch b = ld.next(n);
    const auto rows = rows_of(b);
    for (int64_t r = 0; r < b.rows; ++r) (b.source[size_t(r)] == 0 ? got_a : got_b).insert(rows[size_t(r)]);
    CHECK(ld.epochs() == doctest::Approx(1.0));
  }
  CHECK(got_a == want_a);
  CHECK(got_b == want_b);
}

TEST_CASE("weights repeat a source within a pass and epochs are reported") {
  Prepared p(0.0);
  ShardLoader ld(p.out, "train", opts(3));
  CHECK(ld.rows_per_epoch() == 40 + 2 * 20);  // b has weight 2
  const TokenBatch b = ld.next(80);
  std::map<std::vector<int32_t>, int> count;
  int from_b = 0;
  for (const auto& r : rows_of(b)) ++count[r];
  for (int32_t s : b.source) from_b += s == 1;
  CHECK(from_b == 40);
  int twice = 0, once = 0;
  for (const auto& [row, n] : count) (n == 2 ? twice : once) += 1;
  CHECK(twice == 20);
  CHECK(once == 40);
  CHECK(ld.epochs() == doctest::Approx(1.0));
  ld.next(40);
  CHECK(ld.epochs() == doctest::Approx(1.5));
  CHECK(ld.tokens_per_source().at("b") == 20 * kCols);
  CHECK_NOTHROW(ld.check_model_vocab(1000, "tiny"));
  CHECK_NOTHROW(ld.check_model_vocab(1024, "tiny"));  // padded embedding
  CHECK_THROWS_WITH_AS(
      ld.check_model_vocab(512, "tiny"),
      doctest::Contains("data vocab_size = 1000 (pre-tokenized), but model 'tiny' has vocab_size = 512"),
      sharelab::ConfigError);
}

TEST_CASE("the order is a pure function of (seed, rank, world_size, cursor) and resume = uninterrupted") {
  Prepared p;
  ShardLoader a(p.out, "train", opts(7)), b(p.out, "train", opts(7)), other(p.out, "train", opts(8));
  const int64_t total = 3 * a.rows_per_epoch() + 5;  // crosses pass boundaries
  const TokenBatch full = a.next(total);
  CHECK(b.next(total).tokens == full.tokens);
  CHECK(other.next(total).tokens != full.tokens);

  for (uint64_t cut : {uint64_t(1), uint64_t(37), uint64_t(total - 3)}) {
    ShardLoader first(p.out, "train", opts(7));
    const TokenBatch head = first.next(int64_t(cut));
    CHECK(first.cursor() == cut);
    ShardLoader resumed(p.out, "train", opts(7));  // a new process after a kill
    resumed.seek(cut);
    const TokenBatch tail = resumed.next(total - int64_t(cut));
    std::vector<int32_t> joined = head.tokens;
    joined.insert(joined.end(), tail.tokens.begin(), tail.tokens.end());
    CHECK(joined == full.tokens);
  }
}

TEST_CASE("rank slices are disjoint and together cover each pass") {
  Prepared p(0.0);
  for (int world : {2, 3}) {
    ShardLoader whole(p.out, "train", opts(5));
    const int64_t M = whole.rows_per_epoch();
    std::multiset<std::vector<int32_t>> pass;
    for (const auto& r : rows_of(whole.next(M))) pass.insert(r);
    std::multiset<std::vector<int32_t>> union_of_ranks;
    int64_t sum = 0;
    for (int r = 0; r < world; ++r) {
      ShardLoader ld(p.out, "train", opts(5, r, world));
      sum += ld.rows_per_epoch();
      for (const auto& row : rows_of(ld.next(ld.rows_per_epoch()))) union_of_ranks.insert(row);
    }
    CHECK(sum == M);
    CHECK(union_of_ranks == pass);  // same multiset: disjoint positions, nothing missing
  }
}

TEST_CASE("a shorter seq_len cuts each stored row into overlapping-by-one windows") {
  Prepared p(0.0);
  ShardLoader stored(p.out, "train", opts(1));
  ShardLoader cut(p.out, "train", opts(1, 0, 1, 5));  // 16 / 5 = 3 windows of 6, last token unused
  CHECK(cut.seq_len() == 5);
  CHECK(cut.rows_per_epoch() == 3 * stored.rows_per_epoch());
  std::set<std::vector<int32_t>> windows;
  for (const auto& r : rows_of(cut.next(cut.rows_per_epoch()))) windows.insert(r);
  std::set<std::vector<int32_t>> expect;
  for (const auto& r : rows_of(stored.next(stored.rows_per_epoch())))
    for (int j = 0; j < 3; ++j) expect.insert(std::vector<int32_t>(r.begin() + j * 5, r.begin() + j * 5 + 6));
  CHECK(windows == expect);
  CHECK_THROWS_WITH_AS(ShardLoader(p.out, "train", opts(1, 0, 1, 17)), doctest::Contains("must be 1..16"),
                       sharelab::ConfigError);
}
