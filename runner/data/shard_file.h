// One packed HDF5 shard: dataset `tokens` (rows, seq_len + 1) uint16|uint32 and dataset `source`
// (rows,) uint16, both contiguous and uncompressed so h5py reads them as plain arrays and the
// loader can mmap them. ShardWriter buffers one shard in memory, builds the file's bytes there and
// writes them with checked system calls under a temporary name, renamed when complete (a full disk:
// std::runtime_error naming the shard and the OS error, nothing left); open_shard() checks dtype and
// shape against the manifest.
// Each dataset carries the CRC-32C of its bytes (attribute "crc32c"); verify_shard() checks them
// (the loader does, before the first row of a shard is used). Shards from before checksums have
// none: they load after a one-line note.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runner/data/manifest.h"

namespace sharelab::data {

constexpr const char* kShardFormat = "sharelab-shard-v1";

class ShardWriter {
 public:
  // Shards are named `<dir>/<split>-NNNNN.h5`. Memory: rows_per_shard x (seq_len + 1) x 4 bytes.
  ShardWriter(std::string dir, int split, int64_t seq_len, std::string dtype, int64_t rows_per_shard);
  void add_row(const uint32_t* tokens, uint16_t source);  // seq_len + 1 tokens
  void finish();                                          // writes the last, partial shard
  const std::vector<ShardEntry>& shards() const { return shards_; }

 private:
  void flush();
  std::string dir_;
  int split_;
  int64_t cols_;
  std::string dtype_;
  int64_t rows_per_shard_;
  std::vector<uint32_t> tokens_;  // (buffered rows, cols_)
  std::vector<uint16_t> source_;
  std::vector<ShardEntry> shards_;
};

// A validated, read-only mmap of one shard.
struct ShardView {
  std::string path;
  int64_t rows = 0, cols = 0;
  int width = 2;                     // bytes per token: 2 (uint16) or 4 (uint32)
  const uint8_t* tokens = nullptr;   // (rows, cols) of `width`-byte tokens
  const uint16_t* source = nullptr;  // (rows,)
  void* map = nullptr;
  size_t map_len = 0;
  bool has_crc = false;  // both datasets carry "crc32c" (shards written before checksums do not)
  uint32_t tokens_crc = 0, source_crc = 0;

  ShardView() = default;
  ShardView(ShardView&&) noexcept;
  ShardView& operator=(ShardView&&) noexcept;
  ShardView(const ShardView&) = delete;
  ~ShardView();
};

// ConfigError naming the file, the dataset and what was expected for a wrong dtype, rank, shape
// or layout (e.g. a compressed or chunked dataset written by another tool).
ShardView open_shard(const std::string& path, int64_t expected_rows, int64_t cols, const std::string& dtype);

// The shard's bytes against its checksums: ConfigError naming the file and the dataset on a
// mismatch (a flipped bit is never trained on). Without checksums: a note on stderr, once per process.
void verify_shard(const ShardView& v);

}  // namespace sharelab::data
