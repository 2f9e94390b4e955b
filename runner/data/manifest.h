// manifest.json of a prepared data directory: what the shards hold and where they came from
// (token counts per source and split, tokenizer sha256, mix hash, seq_len, vocab, dtype, shard
// list, per-source weights = epochs of each source per pass). Written last, so its presence means
// the directory is complete.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sharelab::data {

constexpr int kManifestVersion = 1;
constexpr const char* kManifestName = "manifest.json";

enum Split { kTrain = 0, kVal = 1 };
const char* split_name(int split);
int split_from_name(const std::string& name);  // ConfigError for anything but train/val

struct SourceStats {
  std::string name, reader;
  double weight = 1.0;  // passes over this source per pass over the mix (> 1 repeats it)
  int64_t files = 0;
  int64_t bytes = 0;           // input bytes read (text or jsonl)
  int64_t docs[2] = {0, 0};    // documents (text: chunks, readers.h) per split
  int64_t tokens[2] = {0, 0};  // tokens stored in rows per split
  int64_t rows[2] = {0, 0};
  int64_t dropped[2] = {0, 0};  // tail tokens that did not fill a last row
};

struct ShardEntry {
  std::string file;  // relative to the data directory
  int split = kTrain;
  int64_t rows = 0;
};

struct Manifest {
  int version = kManifestVersion;
  int64_t seq_len = 0;  // tokens predicted per row; rows hold seq_len + 1
  int64_t vocab_size = 0;
  std::string dtype;                             // "uint16" (vocab <= 65535) or "uint32"
  std::string tokenizer_sha256, tokenizer_file;  // "" for pre-tokenized (Amber) input
  int32_t bos_id = -1, eos_id = -1;              // added around each document; -1 = none
  std::string mix_sha256, mix_file;
  double val_fraction = 0;
  int64_t chunk_bytes = 0;  // text chunk size of the split; 0 in manifests written before it existed
  std::vector<SourceStats> sources;  // a row's source id indexes this
  std::vector<ShardEntry> shards;

  int64_t total_tokens(int split) const;
  std::string to_json() const;
  static Manifest from_json(const std::string& text, const std::string& path);
  static Manifest load(const std::string& dir);  // ConfigError when missing or malformed
};

// Row width dtype for a vocabulary: uint16 when every id fits, else uint32.
std::string dtype_for_vocab(int64_t vocab_size);

}  // namespace sharelab::data
