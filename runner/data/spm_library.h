// Finds and dlopen()s libsharelab_spm.so once per process and resolves its C API (spm_api.h).
// Search order: next to the running executable (/proc/self/exe), then $SHARELAB_SPM_LIB, then the
// path baked in at build time. RTLD_LOCAL | RTLD_DEEPBIND keep SentencePiece's protobuf apart from
// LibTorch's in the same process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sharelab::data {

struct SpmLibrary {
  std::string path;  // the file that was loaded
  void* (*load)(const char*, char*, size_t);
  void (*close)(void*);
  int (*encode)(void*, const char*, size_t, int32_t**, size_t*, char*, size_t);
  int (*decode)(void*, const int32_t*, size_t, char**, size_t*, char*, size_t);
  int (*id_to_piece)(void*, int32_t, char**, size_t*);
  int32_t (*piece_size)(void*);
  int32_t (*bos_id)(void*);
  int32_t (*eos_id)(void*);
  int32_t (*unk_id)(void*);
  void (*free_buf)(void*);
};

// The process-wide library; throws std::runtime_error listing every path tried when none loads.
const SpmLibrary& spm_library();

}  // namespace sharelab::data
