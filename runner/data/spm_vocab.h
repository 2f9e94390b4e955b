// The vocabulary and options inside a SentencePiece .model file, read straight from its protobuf
// bytes (no SentencePiece link: tokenizer.h says why that library stays behind dlopen). The HF
// tokenizer files and GGUF's tokenizer.ggml.* metadata are written from this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sharelab::data {

// SentencePiece's piece types; GGUF's tokenizer.ggml.token_type uses the same numbers.
enum class SpmPieceType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct SpmPiece {
  std::string piece;  // UTF-8, spaces as U+2581 "▁"; byte pieces look like "<0x0A>"
  float score = 0;
  SpmPieceType type = SpmPieceType::kNormal;
};

struct SpmVocab {
  std::vector<SpmPiece> pieces;  // index = token id
  enum class ModelType : int32_t { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 } model_type = ModelType::kUnigram;
  int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;  // -1: none
  bool byte_fallback = false;
  bool add_dummy_prefix = true;            // a "▁" is prepended to the text
  bool remove_extra_whitespaces = true;    // runs of spaces collapse, ends trimmed
  bool escape_whitespaces = true;          // " " becomes "▁"
  std::string normalizer = "nmt_nfkc";     // normalization rule name ("identity": none)
  bool has_charsmap = false;               // a precompiled normalization map is present

  const char* model_type_name() const;  // "unigram", "bpe", "word", "char"
};

// ConfigError naming the file when it is missing or its bytes are not a SentencePiece ModelProto.
SpmVocab read_spm_vocab(const std::string& path);

}  // namespace sharelab::data
