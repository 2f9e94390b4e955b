// The tokenizer files of an HF model directory, from a SentencePiece .model: the model itself
// (tokenizer.model, what llama.cpp's converter and sentencepiece read), tokenizer.json (what
// transformers' AutoTokenizer loads), tokenizer_config.json and special_tokens_map.json.
//
// tokenizer.json is the LLaMA-2 pipeline (normalizer: prepend "▁", spaces to "▁"; no
// pre-tokenizer; BPE with byte fallback, or Unigram) and tokenizer_config.json names the generic
// PreTrainedTokenizerFast on purpose: transformers 5's LlamaTokenizer rebuilds the pipeline with a
// Metaspace pre-tokenizer that drops SentencePiece's dummy "▁" before a text starting with a space,
// so its ids differ from SentencePiece's on such texts; the generic class keeps ours.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "runner/data/spm_vocab.h"
#include "runner/interop/hf_config.h"

namespace sharelab::interop {

SpecialTokens special_tokens(const data::SpmVocab& v);

// ConfigError naming `origin` when the model uses a normalization tokenizers cannot reproduce
// here (a rule other than identity, collapsed whitespace) or a WORD/CHAR model.
nlohmann::ordered_json hf_tokenizer_json(const data::SpmVocab& v, const std::string& origin);

// Writes the four files into `dir` (which exists).
void write_hf_tokenizer(const std::string& spm_model_path, const std::string& dir, int64_t model_max_length);

}  // namespace sharelab::interop
