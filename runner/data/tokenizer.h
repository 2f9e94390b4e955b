// SentencePiece tokenizer behind a plain interface. LibTorch and SentencePiece cannot share one
// process's symbol namespace (../shared/notes/pitfalls.md: both carry protobuf and the process
// crashes before main), so the implementation dlopen()s our own small shim library
// (libsharelab_spm.so, the only thing linking sentencepiece) with RTLD_LOCAL | RTLD_DEEPBIND.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sharelab::data {

class Tokenizer {
 public:
  // Loads a SentencePiece .model file (e.g. LLaMA's tokenizer.model). ConfigError naming the
  // file when it is missing or not a SentencePiece model.
  static Tokenizer load(const std::string& model_path);

  std::vector<int32_t> encode(const std::string& text) const;  // no BOS/EOS added
  std::string decode(const std::vector<int32_t>& ids) const;
  std::string id_to_piece(int32_t id) const;
  int32_t vocab_size() const;
  int32_t bos_id() const;  // 1 for LLaMA
  int32_t eos_id() const;  // 2 for LLaMA
  int32_t unk_id() const;  // 0 for LLaMA
  const std::string& path() const;
  std::string sha256() const;  // of the model file: recorded in manifests and results

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sharelab::data
