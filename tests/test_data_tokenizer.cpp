// The tokenizer inside a process that also links and runs LibTorch (the configuration that crashes
// when SentencePiece is linked directly, pitfalls.md): LLaMA's ids, round trips on real corpus
// text, training a model, and text -> shards -> loader -> decode giving the text back.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/errors.h"
#include "runner/data/loader.h"
#include "runner/data/prepare.h"
#include "runner/data/spm_train.h"
#include "runner/data/tokenizer.h"
#include "test_data_util.h"

using namespace sharelab::data;
using namespace sharelab::data::testing;

namespace {

const std::string kShared = std::string(SHARELAB_SOURCE_DIR) + "/../shared/data";
const std::string kLlama = kShared + "/mobilellm/tokenizer.model";

std::string read_prefix(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::string s(n, '\0');
  in.read(s.data(), std::streamsize(n));
  s.resize(size_t(in.gcount()));
  return s;
}

}  // namespace

TEST_CASE("LLaMA tokenizer: 'Hello world' with BOS is [1, 15043, 3186] next to LibTorch") {
  const torch::Tensor t = torch::ones({2, 2}).matmul(torch::ones({2, 2}));  // LibTorch is live here
  CHECK(t.sum().item<float>() == 8.0f);
  const Tokenizer tok = Tokenizer::load(kLlama);
  CHECK(tok.vocab_size() == 32000);
  CHECK(tok.bos_id() == 1);
  CHECK(tok.eos_id() == 2);
  CHECK(tok.unk_id() == 0);
  std::vector<int32_t> ids = tok.encode("Hello world");
  ids.insert(ids.begin(), tok.bos_id());
  CHECK(ids == std::vector<int32_t>{1, 15043, 3186});
  CHECK(tok.encode("Hello\nworld") == std::vector<int32_t>{15043, 13, 11526});  // MANIFEST.md
  CHECK(tok.id_to_piece(15043) == "\xE2\x96\x81Hello");
  CHECK(tok.sha256() == "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347");
}

TEST_CASE("round trip of real corpus text (tiny-shakespeare, WikiText-2)") {
  const Tokenizer tok = Tokenizer::load(kLlama);
  for (const char* f : {"/tinyshakespeare/input.txt", "/wikitext-2/valid.txt"}) {
    const std::string text = read_prefix(kShared + f, 20000);
    const auto ids = tok.encode(text);
    CHECK(ids.size() > text.size() / 8);
    // SentencePiece drops the leading dummy-prefix space when decoding; the text starts with a word.
    const std::string start = text.substr(text.find_first_not_of(' '));
    CHECK(tok.decode(tok.encode(start)) == start);
  }
}

TEST_CASE("missing or non-SentencePiece model files are named") {
  CHECK_THROWS_WITH_AS(Tokenizer::load("/nonexistent/tok.model"),
                       doctest::Contains("tok.model: tokenizer model not found"), sharelab::ConfigError);
  TempDir tmp;
  write_text(tmp / "bad.model", "not a protobuf");
  CHECK_THROWS_WITH_AS(Tokenizer::load(tmp / "bad.model"), doctest::Contains("bad.model: not a SentencePiece model"),
                       sharelab::ConfigError);
}

TEST_CASE("training a LLaMA-style BPE model, then text -> shards -> loader -> same text") {
  TempDir tmp;
  // 150 KB of tiny-shakespeare, one line per paragraph as SentencePiece wants.
  write_text(tmp / "train.txt", read_prefix(kShared + "/tinyshakespeare/input.txt", 150000));
  TokenizerTrainOptions t;
  t.input = tmp / "train.txt";
  t.out_model = tmp / "sp.model";
  t.vocab_size = 600;
  t.num_threads = 1;
  train_tokenizer(t);
  const Tokenizer tok = Tokenizer::load(t.out_model);
  TokenizerTrainOptions again = t;
  again.out_model = tmp / "again.model";
  train_tokenizer(again);  // same text, same options: the same bytes (provenance hashes are stable)
  CHECK(Tokenizer::load(again.out_model).sha256() == tok.sha256());
  CHECK(tok.vocab_size() == 600);
  CHECK(tok.unk_id() == 0);
  CHECK(tok.bos_id() == 1);
  CHECK(tok.eos_id() == 2);
  CHECK(tok.id_to_piece(3) == "<0x00>");  // byte fallback pieces follow the specials
  const std::string line = "First Citizen: we are accounted poor citizens, 1234 and \xF0\x9F\xA6\x99!";
  CHECK(tok.decode(tok.encode(line)) == line);  // digits and the emoji survive via byte fallback
  CHECK(tok.encode("1234").size() >= 4);        // split_digits

  // Two documents in a text source; val_fraction 0 so both are in train.
  write_text(tmp / "doc1.txt", "Hello world, this is the first document of the test corpus.\n");
  write_text(tmp / "doc2.txt", "A second document follows here, with different words in it.\n");
  write_text(tmp / "mix.toml",
             "[mix]\nseq_len = 8\nval_fraction = 0.0\n[[source]]\nname = \"t\"\n"
             "path = \"doc*.txt\"\nreader = \"text\"\n");
  PrepareOptions o;
  o.mix_path = tmp / "mix.toml";
  o.out_dir = tmp / "out";
  o.tokenizer = kLlama;
  o.progress = false;
  const PrepareReport r = prepare_data(o);
  CHECK(r.manifest.tokenizer_sha256 == "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347");
  CHECK(r.manifest.vocab_size == 32000);
  CHECK(r.manifest.dtype == "uint16");

  // Expected: one stream [bos] doc1 [eos] [bos] doc2 [eos] cut into non-overlapping rows of 9.
  const Tokenizer llama = Tokenizer::load(kLlama);
  std::vector<int32_t> stream;
  for (const char* d : {"doc1.txt", "doc2.txt"}) {
    std::ifstream in(tmp / d);
    std::stringstream ss;
    ss << in.rdbuf();
    stream.push_back(1);
    for (int32_t id : llama.encode(ss.str())) stream.push_back(id);
    stream.push_back(2);
  }
  std::multiset<std::vector<int32_t>> want;
  for (size_t i = 0; i + 9 <= stream.size(); i += 9)
    want.insert(std::vector<int32_t>(stream.begin() + i, stream.begin() + i + 9));
  CHECK(r.manifest.sources[0].dropped[kTrain] == int64_t(stream.size() % 9));

  LoaderOptions lo;
  lo.log_epochs = false;
  ShardLoader loader(o.out_dir, "train", lo);
  REQUIRE(loader.rows_per_epoch() == int64_t(want.size()));
  const TokenBatch b = loader.next(loader.rows_per_epoch());
  std::multiset<std::vector<int32_t>> got;
  for (int64_t i = 0; i < b.rows; ++i)
    got.insert(std::vector<int32_t>(b.tokens.begin() + i * 9, b.tokens.begin() + (i + 1) * 9));
  CHECK(got == want);
  CHECK(llama.decode(std::vector<int32_t>(stream.begin() + 1, stream.begin() + 6)) == "Hello world, this is");
}

TEST_CASE("prepare output does not depend on the tokenizer thread count") {
  TempDir tmp;
  const std::string text = read_prefix(kShared + "/tinyshakespeare/input.txt", 60000);
  for (int d = 0; d < 12; ++d)
    write_text(tmp / ("d" + std::to_string(d) + ".txt"), text.substr(size_t(d) * 5000, 5000));
  write_text(tmp / "mix.toml",
             "[mix]\nseq_len = 64\nval_fraction = 0.2\n[[source]]\nname = \"s\"\n"
             "path = \"d*.txt\"\nreader = \"text\"\n");
  std::vector<std::vector<int32_t>> streams;
  std::vector<std::string> manifests;
  for (int threads : {1, 3}) {
    PrepareOptions o;
    o.mix_path = tmp / "mix.toml";
    o.out_dir = tmp / ("out" + std::to_string(threads));
    o.tokenizer = kLlama;
    o.threads = threads;
    o.progress = false;
    o.shard_tokens = 40 * 65;
    manifests.push_back(prepare_data(o).manifest.to_json());
    LoaderOptions lo;
    lo.seed = 11;
    lo.log_epochs = false;
    ShardLoader ld(o.out_dir, "train", lo);
    streams.push_back(ld.next(ld.rows_per_epoch()).tokens);
  }
  CHECK(streams[0].size() > 0);
  CHECK(streams[0] == streams[1]);
  CHECK(manifests[0] == manifests[1]);
}

TEST_CASE("a failed tokenizer training is one ConfigError and leaves no model behind") {
  TempDir tmp;
  write_text(tmp / "empty.txt", "");
  TokenizerTrainOptions t;
  t.input = tmp / "empty.txt";
  t.out_model = tmp / "x.model";
  t.vocab_size = 300;
  CHECK_THROWS_WITH_AS(train_tokenizer(t), doctest::Contains("empty.txt: SentencePiece training failed"),
                       sharelab::ConfigError);
  CHECK_FALSE(std::filesystem::exists(t.out_model));
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.path), {}) == 1);  // only empty.txt
  t.out_model = tmp / "x.bin";
  CHECK_THROWS_WITH_AS(train_tokenizer(t), doctest::Contains("must end in .model"), sharelab::ConfigError);
}
