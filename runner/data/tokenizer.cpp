// Tokenizer over the dlopen'ed SentencePiece shim (spm_library.h).
#include "runner/data/tokenizer.h"

#include <sys/stat.h>

#include <stdexcept>

#include "common/errors.h"
#include "runner/data/sha256.h"
#include "runner/data/spm_library.h"

namespace sharelab::data {

struct Tokenizer::Impl {
  const SpmLibrary* lib = nullptr;
  void* handle = nullptr;
  std::string path;
  int32_t vocab = 0, bos = -1, eos = -1, unk = -1;
  ~Impl() {
    if (handle) lib->close(handle);
  }
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(const std::string& model_path) {
  struct stat st;
  if (::stat(model_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw ConfigError(model_path + ": tokenizer model not found");
  auto impl = std::make_unique<Impl>();
  impl->lib = &spm_library();
  char err[512] = {0};
  impl->handle = impl->lib->load(model_path.c_str(), err, sizeof err);
  if (!impl->handle) throw ConfigError(model_path + ": not a SentencePiece model (" + std::string(err) + ")");
  impl->path = model_path;
  impl->vocab = impl->lib->piece_size(impl->handle);
  impl->bos = impl->lib->bos_id(impl->handle);
  impl->eos = impl->lib->eos_id(impl->handle);
  impl->unk = impl->lib->unk_id(impl->handle);
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(const std::string& text) const {
  int32_t* ids = nullptr;
  size_t n = 0;
  char err[512] = {0};
  if (!impl_->lib->encode(impl_->handle, text.data(), text.size(), &ids, &n, err, sizeof err))
    throw std::runtime_error(impl_->path + ": encode failed: " + err);
  std::vector<int32_t> out(ids, ids + n);
  impl_->lib->free_buf(ids);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  for (int32_t id : ids)
    if (id < 0 || id >= impl_->vocab)
      throw ConfigError(impl_->path + ": decode: id " + std::to_string(id) + " outside vocab 0.." +
                        std::to_string(impl_->vocab - 1));
  char* text = nullptr;
  size_t n = 0;
  char err[512] = {0};
  if (!impl_->lib->decode(impl_->handle, ids.data(), ids.size(), &text, &n, err, sizeof err))
    throw std::runtime_error(impl_->path + ": decode failed: " + err);
  std::string out(text, n);
  impl_->lib->free_buf(text);
  return out;
}

std::string Tokenizer::id_to_piece(int32_t id) const {
  char* p = nullptr;
  size_t n = 0;
  if (!impl_->lib->id_to_piece(impl_->handle, id, &p, &n))
    throw ConfigError(impl_->path + ": id " + std::to_string(id) + " outside vocab 0.." +
                      std::to_string(impl_->vocab - 1));
  std::string out(p, n);
  impl_->lib->free_buf(p);
  return out;
}

int32_t Tokenizer::vocab_size() const {
  return impl_->vocab;
}
int32_t Tokenizer::bos_id() const {
  return impl_->bos;
}
int32_t Tokenizer::eos_id() const {
  return impl_->eos;
}
int32_t Tokenizer::unk_id() const {
  return impl_->unk;
}
const std::string& Tokenizer::path() const {
  return impl_->path;
}
std::string Tokenizer::sha256() const {
  return sha256_file(impl_->path);
}

}  // namespace sharelab::data
