// A data-mix TOML (configs/data/*.toml): which sources, read how, weighted how. Paths are relative
// to the TOML file's folder and may be globs; every source must match at least one file.
//
//   [mix]                       # all optional
//   seq_len = 2048              # tokens predicted per row (rows hold seq_len + 1)
//   val_fraction = 0.01         # share of document chunks held out (by a hash of the chunk id)
//   chunk_bytes = 16384         # text is cut into chunks of about this size for the split
//   tokenizer = "x.model"       # SentencePiece model for text sources ...
//   vocab_size = 8000           # ... or train one of this size (also the id bound for amber-jsonl)
//   model_type = "bpe"          # bpe | unigram, for a trained tokenizer
//   [[source]]
//   name = "brown"  path = "...glob..."  reader = "brown-tagged"  weight = 1.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runner/data/readers.h"

namespace sharelab::data {

struct MixSource {
  std::string name, path, reader;
  double weight = 1.0;             // passes over this source per pass over the mix
  std::vector<std::string> files;  // the glob's matches, sorted
};

struct Mix {
  std::string file, sha256;
  int64_t seq_len = 2048;
  double val_fraction = 0.01;
  int64_t chunk_bytes = int64_t(kDefaultChunkBytes);
  std::string tokenizer;  // resolved path, "" when none
  int32_t vocab_size = 0;
  std::string model_type = "bpe";
  std::vector<MixSource> sources;

  bool has_text_sources() const;
};

// Readers: text (a file is a document), jsonl-text (one {"text": ...} per line),
// brown-tagged (Brown corpus word/tag files, tags stripped), amber-jsonl (pre-tokenized rows).
const std::vector<std::string>& known_readers();

Mix load_mix(const std::string& path);  // ConfigError "FILE:LINE:COL: source.weight: expected ..."
// The same from TEXT read as PATH's contents (sha256 of TEXT). match_files = false leaves every
// source's `files` empty and skips the glob (fuzz/: the mix's own checks, not the file system).
Mix parse_mix(const std::string& text, const std::string& path, bool match_files = true);

}  // namespace sharelab::data
