// Fixtures of the training tests: an in-memory batch source and a temporary folder.
#pragma once

#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "arch/registry.h"
#include "common/atomic_file.h"
#include "runner/config/run_config.h"
#include "runner/data/manifest.h"
#include "runner/data/shard_file.h"
#include "runner/train/train_loop.h"

namespace sharelab::test {

// Rows of (cols) random tokens, served in order and cycled: a stand-in for ShardLoader.
class MemorySource : public train::BatchSource {
 public:
  MemorySource(int64_t n_rows, int64_t cols, int64_t vocab, uint64_t seed) : n_(n_rows), cols_(cols) {
    auto gen = at::detail::createCPUGenerator(seed);
    auto t = torch::randint(vocab, {n_rows, cols}, gen, torch::kInt32).contiguous();
    rows_.assign(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + t.numel());
  }
  data::TokenBatch next(int64_t rows) override {
    data::TokenBatch b;
    b.rows = rows;
    b.cols = cols_;
    for (int64_t r = 0; r < rows; ++r, ++cursor_) {
      const int64_t i = int64_t(cursor_ % uint64_t(n_));
      b.tokens.insert(b.tokens.end(), rows_.begin() + i * cols_, rows_.begin() + (i + 1) * cols_);
      b.source.push_back(0);
    }
    return b;
  }
  uint64_t cursor() const override { return cursor_; }
  void seek(uint64_t c) override { cursor_ = c; }
  double epochs() const override { return double(cursor_) / double(n_); }

 private:
  int64_t n_, cols_;
  uint64_t cursor_ = 0;
  std::vector<int32_t> rows_;
};

// A fresh folder under the system's temporary directory, removed with the object.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& name) {
    path = (std::filesystem::temp_directory_path() / ("sharelab_" + name + "_" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A prepared data folder root/data of `rows` rows of 33 ids from `id(row, k)` (seq_len 32, vocab
// 256, 64 rows a shard, source `source`); with hold_out every 10th row goes to validation.
template <typename Id>
std::string write_shards(const std::string& root, const std::string& source, int rows, bool hold_out, Id id) {
  const std::string dir = root + "/data";
  std::filesystem::create_directories(dir);
  data::Manifest man;
  man.seq_len = 32;
  man.vocab_size = 256;
  man.dtype = data::dtype_for_vocab(256);
  data::SourceStats src;
  src.name = source;
  src.reader = "amber-jsonl";
  src.files = 1;
  src.bytes = int64_t(rows) * 33;
  data::ShardWriter writers[2] = {data::ShardWriter(dir, data::kTrain, 32, man.dtype, 64),
                                  data::ShardWriter(dir, data::kVal, 32, man.dtype, 64)};
  std::vector<uint32_t> ids(33);
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < 33; ++k) ids[size_t(k)] = id(r, k);
    const int split = hold_out && r % 10 == 9 ? data::kVal : data::kTrain;
    writers[split].add_row(ids.data(), 0);
    src.docs[split] += 1, src.rows[split] += 1, src.tokens[split] += 33;
  }
  for (auto& w : writers) {  // a writer given no rows writes no shard
    w.finish();
    man.shards.insert(man.shards.end(), w.shards().begin(), w.shards().end());
  }
  man.sources.push_back(src);
  arch::write_file_atomic(dir + "/" + data::kManifestName, man.to_json());
  return dir;
}

// The debug model with a shared FFN, 8 steps of 2 x 2 x 32 tokens (accumulation 2), checkpoints
// after steps 3 and 6 and at the end, 2 validation batches every 4 steps, one thread.
inline config::RunConfig tiny_run(const std::string& precision) {
  config::RunConfig rc;
  rc.sweep = "test";
  rc.name = "tiny";
  rc.preset = "debug";
  rc.scale = "smoke";
  rc.model = arch::resolve_preset("debug", {"scheme=shared-ffn"});
  auto& t = rc.train;
  t.seq_len = 32;
  t.micro_batch = 2;
  t.global_batch_tokens = 2 * 2 * 32;  // accumulation 2
  t.tokens = 8 * t.global_batch_tokens;
  t.lr = 3e-3;
  t.min_lr = 3e-4;
  t.warmup_steps = 2;
  t.precision = precision;
  t.checkpoint_every_tokens = 3 * t.global_batch_tokens;  // after steps 3 and 6, and at the end (8)
  t.val_every_tokens = 4 * t.global_batch_tokens;
  t.val_batches = 2;
  t.log_every_steps = 100;
  t.threads = 1;
  return rc;
}

}  // namespace sharelab::test
