// Deterministic, resumable sampler over packed HDF5 shards (written by `runner data prepare`).
// The order is a pure function of (seed, rank, world_size, cursor): a run killed after cursor N
// and resumed with seek(N) sees exactly the batches the uninterrupted run would have seen.
// Ranks get disjoint slices that together cover the split. Mix weights are honoured; when a
// budget exceeds the data the epoch count grows and is reported (repeats are never silent).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sharelab::data {

struct LoaderOptions {
  uint64_t seed = 0;
  int rank = 0;
  int world_size = 1;
  int64_t seq_len = 0;  // tokens predicted per row; 0 = as stored. Must be <= the stored length.
  // A stored row of L+1 tokens is cut into k = L / seq_len rows: row j = stored[j*seq_len,
  // (j+1)*seq_len + 1) (neighbours overlap by the one token that is target then input); the last
  // L - k*seq_len tokens of each stored row are not used.
  bool log_epochs = true;  // one stderr line when a pass over the data begins again (repeats are visible)
};

struct TokenBatch {
  int64_t rows = 0;
  int64_t cols = 0;             // seq_len + 1: inputs are [:, :-1], targets [:, 1:]
  std::vector<int32_t> tokens;  // rows x cols, row-major
  std::vector<int32_t> source;  // per row: source id (index into ShardLoader::sources())
};

// What a ShardLoader of `split` would refuse, without building its row lists (a pass over every
// row): the manifest, seq_len against it, every shard of the split present with its listed shape
// and dtype, and a split that has rows. For the checks before a run row is written.
void check_split(const std::string& dir, const std::string& split, const LoaderOptions& opt);

class ShardLoader {
 public:
  // dir: a prepared data directory (manifest.json + shards); split: "train" or "val".
  ShardLoader(const std::string& dir, const std::string& split, const LoaderOptions& opt);
  ~ShardLoader();
  ShardLoader(ShardLoader&&) noexcept;

  TokenBatch next(int64_t rows);

  uint64_t cursor() const;     // rows handed out by this rank so far
  void seek(uint64_t cursor);  // continue as if `cursor` rows had been read
  double epochs() const;       // passes over this rank's slice so far (fractional)
  int64_t rows_per_epoch() const;

  int64_t seq_len() const;
  int64_t vocab_size() const;
  // ConfigError when a model's embedding cannot hold these ids (model_vocab < vocab_size()),
  // naming the data folder, both sizes and the fix. A larger (padded) model vocab is accepted.
  void check_model_vocab(int64_t model_vocab, const std::string& model_name) const;
  std::string tokenizer_sha256() const;  // "" for pre-tokenized (Amber) input
  std::vector<std::string> sources() const;
  std::map<std::string, int64_t> tokens_per_source() const;  // this split, from the manifest
  std::string manifest_json() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace sharelab::data
