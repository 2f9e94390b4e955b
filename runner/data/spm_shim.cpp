// libsharelab_spm.so: SentencePiece behind a C API. Built as its own shared library and loaded
// with RTLD_DEEPBIND so its protobuf copy never binds to LibTorch's (pitfalls.md); nothing else in
// the project links sentencepiece. Logging is switched off: under DEEPBIND, libsentencepiece's
// std::cerr is libstdc++'s never-constructed copy (the executable holds the live one), so any
// LOG() line would crash. Errors come back as statuses instead. Training, which logs throughout,
// runs in a separate process (spm_train.cpp).
#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "runner/data/spm_api.h"

namespace sentencepiece::logging {
void SetMinLogLevel(int v);  // exported by libsentencepiece, not in its public headers
}

namespace {
void set_err(char* err, size_t n, const std::string& msg) {
  if (!err || n == 0) return;
  std::strncpy(err, msg.c_str(), n - 1);
  err[n - 1] = '\0';
}
template <typename T>
T* copy_out(const T* src, size_t n) {
  T* p = static_cast<T*>(std::malloc(std::max<size_t>(1, n * sizeof(T))));
  if (p && n) std::memcpy(p, src, n * sizeof(T));
  return p;
}
}  // namespace

extern "C" {

__attribute__((visibility("default"))) int slspm_api_version(void) {
  return SLSPM_API_VERSION;
}

__attribute__((visibility("default"))) void* slspm_load(const char* path, char* err, size_t err_len) {
  sentencepiece::logging::SetMinLogLevel(3);  // FATAL only (see the top of this file)
  auto* sp = new sentencepiece::SentencePieceProcessor();
  const auto st = sp->Load(path);
  if (!st.ok()) {
    set_err(err, err_len, st.ToString());
    delete sp;
    return nullptr;
  }
  return sp;
}

__attribute__((visibility("default"))) void slspm_close(void* h) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(h);
}

__attribute__((visibility("default"))) int slspm_encode(void* h, const char* text, size_t len, int32_t** ids, size_t* n,
                                                        char* err, size_t err_len) {
  std::vector<int> out;
  const auto st = static_cast<sentencepiece::SentencePieceProcessor*>(h)->Encode(std::string(text, len), &out);
  if (!st.ok()) {
    set_err(err, err_len, st.ToString());
    return 0;
  }
  static_assert(sizeof(int) == sizeof(int32_t), "int is 32-bit");
  *ids = copy_out(reinterpret_cast<const int32_t*>(out.data()), out.size());
  *n = out.size();
  return 1;
}

__attribute__((visibility("default"))) int slspm_decode(void* h, const int32_t* ids, size_t n, char** text, size_t* len,
                                                        char* err, size_t err_len) {
  std::vector<int> in(ids, ids + n);
  std::string out;
  const auto st = static_cast<sentencepiece::SentencePieceProcessor*>(h)->Decode(in, &out);
  if (!st.ok()) {
    set_err(err, err_len, st.ToString());
    return 0;
  }
  *text = copy_out(out.data(), out.size());
  *len = out.size();
  return 1;
}

__attribute__((visibility("default"))) int slspm_id_to_piece(void* h, int32_t id, char** piece, size_t* len) {
  auto* sp = static_cast<sentencepiece::SentencePieceProcessor*>(h);
  if (id < 0 || id >= sp->GetPieceSize()) return 0;
  const std::string& p = sp->IdToPiece(id);
  *piece = copy_out(p.data(), p.size());
  *len = p.size();
  return 1;
}

__attribute__((visibility("default"))) int32_t slspm_piece_size(void* h) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->GetPieceSize();
}
__attribute__((visibility("default"))) int32_t slspm_bos_id(void* h) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->bos_id();
}
__attribute__((visibility("default"))) int32_t slspm_eos_id(void* h) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->eos_id();
}
__attribute__((visibility("default"))) int32_t slspm_unk_id(void* h) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->unk_id();
}

__attribute__((visibility("default"))) void slspm_free_buf(void* p) {
  std::free(p);
}

}  // extern "C"
