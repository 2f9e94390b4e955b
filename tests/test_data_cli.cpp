// `runner data ...` end to end through the real executable (which links LibTorch): exit codes,
// one-line errors, the LLaMA ids from the dlopen'ed tokenizer, prepare + inspect output.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>

#include "test_data_util.h"

using namespace sharelab::data::testing;

namespace {

struct Run {
  int rc;
  std::string out;  // stdout and stderr together
};

Run runner(const std::string& args) {
  const std::string cmd = std::string(SHARELAB_BINARY_DIR) + "/runner " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kLlama = std::string(SHARELAB_SOURCE_DIR) + "/../shared/data/mobilellm/tokenizer.model";

}  // namespace

TEST_CASE("runner data tokenizer: LLaMA's ids for 'Hello world' with BOS") {
  const Run r = runner("data tokenizer --model " + kLlama + " --encode 'Hello world' --bos");
  CHECK(r.rc == 0);
  CHECK(r.out.find("vocab 32000, unk 0, bos 1, eos 2") != std::string::npos);
  CHECK(r.out.find("\n1 15043 3186\n") != std::string::npos);
}

TEST_CASE("runner data prepare + inspect on Amber jsonl, and bad input exits 2 with one line") {
  TempDir tmp;
  write_amber(tmp / "in.jsonl", 1, 12, 9, 100);
  write_text(tmp / "mix.toml",
             "[mix]\nseq_len = 8\nval_fraction = 0.25\nvocab_size = 100\n[[source]]\nname = "
             "\"arxiv\"\npath = \"in.jsonl\"\nreader = \"amber-jsonl\"\n");
  Run r = runner("data prepare --no-progress --mix " + tmp / "mix.toml" + " --out " + tmp / "out");
  CHECK(r.rc == 0);
  CHECK(r.out.find("arxiv") != std::string::npos);
  r = runner("data inspect " + tmp / "out");
  CHECK(r.rc == 0);
  CHECK(r.out.find("seq_len 8  vocab 100  dtype uint16") != std::string::npos);
  CHECK(r.out.find("amber-jsonl") != std::string::npos);

  write_text(tmp / "in.jsonl", amber_line(amber_ids(1, 1, 9, 100), "c4") + amber_line({1, 2, 3}, "c4"));
  r = runner("data prepare --no-progress --mix " + tmp / "mix.toml" + " --out " + tmp / "out2");
  CHECK(r.rc == 2);
  CHECK(r.out ==
        "runner: error: " + tmp / "in.jsonl" + ":2: field 'token_ids' has 3 ids, expected 9 (seq_len 8 + 1)\n");
  r = runner("data inspect " + tmp / "nowhere");
  CHECK(r.rc == 2);
  CHECK(r.out.find("nowhere/manifest.json: not found") != std::string::npos);
  CHECK(runner("data frobnicate").rc == 2);
}

TEST_CASE("runner data prepare: one big text file gets a held-out split, and a tiny one gets a warning") {
  TempDir tmp;
  const std::string shakespeare = std::string(SHARELAB_SOURCE_DIR) + "/../shared/data/tinyshakespeare/input.txt";
  write_text(tmp / "mix.toml", "[mix]\nseq_len = 256\nval_fraction = 0.1\n[[source]]\nname = \"plays\"\npath = \"" +
                                   shakespeare + "\"\nreader = \"text\"\n");
  Run r =
      runner("data prepare --no-progress --mix " + tmp / "mix.toml" + " --out " + tmp / "out --tokenizer " + kLlama);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("warning") == std::string::npos);
  CHECK(r.out.find("chunk_bytes 16384") != std::string::npos);
  // The split line of the summary: "plays  text  1.00  <train chunks>  <val chunks>  <train tokens>  <val tokens>".
  const size_t at = r.out.find("\nplays ");
  REQUIRE(at != std::string::npos);
  std::istringstream line(r.out.substr(at + 1));
  std::string name, reader, weight, train_tokens, val_tokens;
  long train_chunks = 0, val_chunks = 0;
  line >> name >> reader >> weight >> train_chunks >> val_chunks >> train_tokens >> val_tokens;
  auto num = [](std::string s) {
    s.erase(std::remove(s.begin(), s.end(), ','), s.end());
    return std::stod(s);
  };
  const double share = num(val_tokens) / (num(train_tokens) + num(val_tokens));
  MESSAGE("val chunks " << val_chunks << " of " << train_chunks + val_chunks << ", token share " << share);
  CHECK(share > 0.06);  // 0.1 +- 40%: see test_data_split
  CHECK(share < 0.14);

  write_text(tmp / "small.txt", "A few words.\n\nAnd a few more.\n");
  write_text(tmp / "mix2.toml", "[mix]\nseq_len = 4\nval_fraction = 0.01\n[[source]]\nname = \"s\"\n"
                                "path = \"small.txt\"\nreader = \"text\"\n");
  r = runner("data prepare --no-progress --mix " + tmp / "mix2.toml" + " --out " + tmp / "out2 --tokenizer " + kLlama);
  CHECK(r.rc == 0);
  CHECK(r.out.find("data prepare: warning: the held-out split has 0 rows of 5 tokens (fewer than one validation "
                   "batch of 8)") != std::string::npos);
}
