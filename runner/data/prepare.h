// `runner data prepare`: mix TOML -> packed HDF5 shards + manifest.json in one streaming pass.
// Each text document becomes [bos] + ids + [eos]; each (source, split) stream is cut into
// non-overlapping rows of seq_len + 1 (the tail that does not fill a row is dropped and counted);
// Amber rows pass through unchanged. A document chunk (readers.h) goes to val when a hash of
// "<source>/<chunk id>" falls under val_fraction, so the split is stable across runs and machines
// and no text is in both splits.
// Memory bound: 2 shard buffers (train, val) of shard_tokens x 6 bytes each, plus one batch of
// documents being encoded (~8 MiB of text, one document over, and their ids), plus one partial row
// per (source, split): about 150 MB with the defaults, whatever the corpus size. Everything is written into OUT.tmp-PID and renamed to OUT at
// the end; a failure removes the staging folder, so no partial shard is ever visible.
#pragma once

#include <cstdint>
#include <string>

#include "runner/data/manifest.h"
#include "runner/data/mix.h"

namespace sharelab::data {

struct PrepareOptions {
  std::string mix_path, out_dir;
  int64_t seq_len = 0;                      // 0: the mix's
  std::string tokenizer;                    // SentencePiece model; "" = the mix's, else train one of vocab_size
  int32_t vocab_size = 0;                   // 0: the mix's
  double val_fraction = -1;                 // < 0: the mix's
  int64_t chunk_bytes = 0;                  // 0: the mix's
  int64_t shard_tokens = int64_t(1) << 23;  // tokens per shard (8M: 16 MiB as uint16)
  int64_t tokenizer_train_bytes = int64_t(200) << 20;  // text sampled to train a tokenizer
  int threads = 0;               // tokenizer threads; 0 = all cores. The output does not depend on it.
  bool progress = true;
};

struct PrepareReport {
  Manifest manifest;
  double seconds = 0;
  int64_t bytes = 0, tokens = 0;  // input bytes read, tokens stored (both splits)
};

PrepareReport prepare_data(const PrepareOptions& opt);

// kVal or kTrain for a document chunk: a mixed 64-bit hash of "<source>/<chunk id>" against
// val_fraction. Pure and platform-independent (no std::hash).
int split_of(const std::string& source, const std::string& chunk_id, double val_fraction);

// Rows a validation needs at least (the trainer's default micro-batch): fewer held-out rows than
// this get a warning from `prepare`.
constexpr int64_t kMinValRows = 8;

// Writes up to max_bytes of the mix's text sources to `path`, one paragraph per line (long lines
// cut at spaces), for tokenizer training. Each text source gets max_bytes x its share of the
// weights, filled with its documents in file order. Returns the bytes written.
int64_t export_mix_text(const Mix& mix, const std::string& path, int64_t max_bytes);

// One line per source and split: docs, rows, tokens, weight. Used by `inspect` and `prepare`.
std::string format_manifest_summary(const Manifest& m);

}  // namespace sharelab::data
