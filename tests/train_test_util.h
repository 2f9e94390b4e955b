// Fixtures of the training tests: an in-memory batch source and a temporary folder.
#pragma once

#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "arch/registry.h"
#include "runner/config/run_config.h"
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
