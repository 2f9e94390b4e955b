// Each bad input is named in one line (file, line/record, field) as a ConfigError, and a failed
// prepare leaves no output folder and no partial shard behind.
#include <H5Cpp.h>
#include <doctest/doctest.h>

#include <filesystem>

#include "common/errors.h"
#include "runner/data/loader.h"
#include "runner/data/mix.h"
#include "runner/data/prepare.h"
#include "test_data_util.h"

using namespace sharelab::data;
using namespace sharelab::data::testing;
using sharelab::ConfigError;
namespace fs = std::filesystem;

namespace {

constexpr int kCols = 9;  // seq_len 8

std::string amber_mix(const TempDir& tmp, const std::string& files = "in*.jsonl") {
  const std::string p = tmp / "mix.toml";
  write_text(p, "[mix]\nseq_len = 8\nval_fraction = 0.3\nvocab_size = 100\n[[source]]\nname = \"amber\"\npath = \"" +
                    files + "\"\nreader = \"amber-jsonl\"\n");
  return p;
}

// prepare_data's error message; checks that nothing was left in the folder.
std::string prepare_error(const TempDir& tmp, const std::string& mix) {
  PrepareOptions o;
  o.mix_path = mix;
  o.out_dir = tmp / "out";
  o.progress = false;
  o.shard_tokens = 2 * kCols;  // shards are written before the bad line is reached
  std::string msg;
  try {
    prepare_data(o);
  } catch (const ConfigError& e) {
    msg = e.what();
  }
  CHECK(msg.find('\n') == std::string::npos);
  for (const auto& e : fs::directory_iterator(tmp.path)) {
    const std::string name = e.path().filename().string();
    CHECK_MESSAGE(name.rfind("out", 0) != 0, "left behind: " << name);
  }
  return msg;
}

}  // namespace

TEST_CASE("amber jsonl: a line that is not JSON names file and line") {
  TempDir tmp;
  std::string good;
  for (int l = 1; l <= 6; ++l) good += amber_line(amber_ids(1, l, kCols, 100), "c4");
  write_text(tmp / "in1.jsonl", good + "{\"token_ids\": [1, 2,\n");
  const std::string msg = prepare_error(tmp, amber_mix(tmp));
  CHECK(msg.find("in1.jsonl:7: not valid JSON") != std::string::npos);
}

TEST_CASE("amber jsonl: token_ids of the wrong length") {
  TempDir tmp;
  write_text(tmp / "in1.jsonl", amber_line(amber_ids(1, 1, kCols, 100), "c4") + amber_line({1, 2, 3}, "c4"));
  CHECK(prepare_error(tmp, amber_mix(tmp)).find("in1.jsonl:2: field 'token_ids' has 3 ids, expected 9") !=
        std::string::npos);
}

TEST_CASE("amber jsonl: an id >= vocab_size, and a missing token_ids") {
  TempDir tmp;
  auto ids = amber_ids(1, 1, kCols, 100);
  ids[4] = 100;
  write_text(tmp / "in1.jsonl", amber_line(ids, "c4"));
  CHECK(prepare_error(tmp, amber_mix(tmp))
            .find("in1.jsonl:1: field 'token_ids'[4] = 100: expected an integer id in "
                  "[0, 100)") != std::string::npos);
  write_text(tmp / "in1.jsonl", "{\"source\": \"c4\"}\n");
  CHECK(prepare_error(tmp, amber_mix(tmp)).find("in1.jsonl:1: field 'token_ids' missing") != std::string::npos);
}

TEST_CASE("a missing source file names the mix, its line and the field") {
  TempDir tmp;
  const std::string msg = prepare_error(tmp, amber_mix(tmp, "nothing-here.jsonl"));
  CHECK(msg.find("mix.toml:7:8: source.path: no file matches") != std::string::npos);
  CHECK(msg.find("nothing-here.jsonl") != std::string::npos);
  CHECK_THROWS_WITH_AS(load_mix(tmp / "absent.toml"), doctest::Contains("absent.toml: no such file"), ConfigError);
}

TEST_CASE("mix TOML: unknown keys and readers are errors") {
  TempDir tmp;
  write_text(tmp / "m.toml", "[mix]\nseq_lne = 8\n");
  CHECK_THROWS_WITH_AS(load_mix(tmp / "m.toml"),
                       doctest::Contains("m.toml:2:1: mix.seq_lne: unknown key (known: seq_len, val_fraction,"),
                       ConfigError);
  write_text(tmp / "x.txt", "hello\n");
  write_text(tmp / "m.toml", "[[source]]\nname = \"x\"\npath = \"x.txt\"\nreader = \"csv\"\n");
  CHECK_THROWS_WITH_AS(load_mix(tmp / "m.toml"),
                       doctest::Contains("m.toml:4:10: source.reader: expected one of text, jsonl-text, brown-tagged, "
                                         "amber-jsonl, got string \"csv\""),
                       ConfigError);
}

TEST_CASE("an HDF5 shard of the wrong dtype or shape is named with its dataset") {
  TempDir tmp;
  std::string rows;
  for (int l = 1; l <= 8; ++l) rows += amber_line(amber_ids(1, l, kCols, 100), "c4");
  write_text(tmp / "in1.jsonl", rows);
  PrepareOptions o;
  o.mix_path = amber_mix(tmp);
  o.out_dir = tmp / "out";
  o.progress = false;
  o.val_fraction = 0;
  prepare_data(o);
  const std::string shard = tmp / "out/train-00000.h5";
  LoaderOptions lo;
  lo.log_epochs = false;
  CHECK_NOTHROW(ShardLoader(o.out_dir, "train", lo));

  auto rewrite = [&](const H5::PredType& type, hsize_t rows_n, hsize_t cols_n) {
    H5::H5File f(shard, H5F_ACC_TRUNC);
    const hsize_t td[2] = {rows_n, cols_n}, sd[1] = {rows_n};
    std::vector<int32_t> zeros(rows_n * cols_n, 0);
    f.createDataSet("tokens", type, H5::DataSpace(2, td)).write(zeros.data(), H5::PredType::NATIVE_INT32);
    std::vector<uint16_t> src(rows_n, 0);
    f.createDataSet("source", H5::PredType::STD_U16LE, H5::DataSpace(1, sd))
        .write(src.data(), H5::PredType::NATIVE_UINT16);
  };
  rewrite(H5::PredType::STD_I32LE, 8, kCols);
  CHECK_THROWS_WITH_AS(ShardLoader(o.out_dir, "train", lo),
                       doctest::Contains("train-00000.h5: dataset 'tokens': dtype is 4-byte signed, expected uint16"),
                       ConfigError);
  rewrite(H5::PredType::STD_U16LE, 8, kCols + 1);
  CHECK_THROWS_WITH_AS(ShardLoader(o.out_dir, "train", lo),
                       doctest::Contains("train-00000.h5: dataset 'tokens': shape (8, 10), expected (8, 9)"),
                       ConfigError);
  fs::remove(shard);
  CHECK_THROWS_WITH_AS(ShardLoader(o.out_dir, "train", lo),
                       doctest::Contains("train-00000.h5: shard listed in "
                                         "manifest.json is missing"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(ShardLoader(tmp / "nowhere", "train", lo), doctest::Contains("manifest.json: not found"),
                       ConfigError);
}

TEST_CASE("prepare refuses to replace a folder it did not make") {
  TempDir tmp;
  write_text(tmp / "in1.jsonl", amber_line(amber_ids(1, 1, kCols, 100), "c4"));
  fs::create_directories(tmp / "out");
  write_text(tmp / "out/precious.txt", "x");
  PrepareOptions o;
  o.mix_path = amber_mix(tmp);
  o.out_dir = tmp / "out";
  o.progress = false;
  CHECK_THROWS_WITH_AS(prepare_data(o), doctest::Contains("exists and is not a prepared data folder"), ConfigError);
  CHECK(fs::exists(tmp / "out/precious.txt"));
}
