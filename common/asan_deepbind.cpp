// `make sanitize` only (CMake SHARELAB_SANITIZE links our objects with -Wl,--wrap=dlopen): our dlopen
// calls, i.e. runner/data/spm_library.cpp's of the SentencePiece shim, go to glibc's own dlopen.
//
// The shim must be loaded RTLD_DEEPBIND (../shared/notes/pitfalls.md: SentencePiece's private protobuf
// copy against LibTorch's libprotobuf.so.32; without DEEPBIND it fails with "compiled against version
// 3.14.0 of the Protocol Buffer runtime ... installed version (3.21.12)" and then SIGSEGV). ASan's
// dlopen interceptor refuses RTLD_DEEPBIND outright and ends the process (google/sanitizers#611): a
// deep-bound library would look up malloc, free, new and delete in its own dependencies first, i.e.
// libc's and libstdc++'s instead of ASan's. That cannot happen here: the shim is itself built with
// -fsanitize=address, so libasan.so is its first DT_NEEDED and heads the deep-bound lookup scope that
// glibc gives the shim and everything loaded with it (libsentencepiece included); their allocation
// functions are ASan's like everyone else's. Checked: test_data_tokenizer (LLaMA ids, round trips,
// training a tokenizer) passes under ASan + UBSan + LSan with no report.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

// -Wl,--wrap=dlopen: the linker sends our calls of dlopen here and __real_dlopen to the real symbol
// (which, in an ASan process, is ASan's interceptor).
extern "C" void* __real_dlopen(const char* file, int mode);

namespace {

using DlopenFn = void* (*)(const char*, int);

DlopenFn glibc_dlopen() {
  static DlopenFn fn = [] {
    // Through ASan's interceptor (no RTLD_DEEPBIND here): the libc.so.6 already mapped, then its dlopen.
    void* libc = __real_dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void* sym = libc ? ::dlsym(libc, "dlopen") : nullptr;
    if (!sym) {
      std::fprintf(stderr, "asan_deepbind: glibc's dlopen not found in libc.so.6\n");
      std::abort();
    }
    return reinterpret_cast<DlopenFn>(sym);
  }();
  return fn;
}

}  // namespace

extern "C" void* __wrap_dlopen(const char* file, int mode) {
  if (mode & RTLD_DEEPBIND) return glibc_dlopen()(file, mode);
  return __real_dlopen(file, mode);
}
