// Training a SentencePiece model with LLaMA-style options: byte fallback, digits split, <unk>=0
// <s>=1 </s>=2, no pad, BPE or unigram. Runs Debian's `spm_train` (package sentencepiece) as a
// child process: SentencePieceTrainer logs to std::cerr throughout, which crashes inside our
// DEEPBIND-loaded shim (spm_shim.cpp), and a separate process also keeps LibTorch out of its way.
// Output is written atomically (`<out>.model` appears only when training succeeded).
#pragma once

#include <cstdint>
#include <string>

namespace sharelab::data {

struct TokenizerTrainOptions {
  std::string input;      // text file, one sentence/paragraph per line
  std::string out_model;  // path of the .model to write (a .vocab is written beside it)
  int32_t vocab_size = 8000;
  std::string model_type = "bpe";         // bpe | unigram
  int64_t input_sentence_size = 1000000;  // lines sampled (shuffled) from the input: bounds memory
  double character_coverage = 0.99995;
  int num_threads = 2;
  std::string spm_train = "spm_train";  // the executable (looked up on PATH); $SHARELAB_SPM_TRAIN overrides
};

void train_tokenizer(const TokenizerTrainOptions& opt);

}  // namespace sharelab::data
