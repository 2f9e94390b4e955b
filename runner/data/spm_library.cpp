// dlopen of the SentencePiece shim (see spm_library.h for the search order).
#include "runner/data/spm_library.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "runner/data/spm_api.h"

#ifndef SHARELAB_SPM_LIB_PATH
#define SHARELAB_SPM_LIB_PATH ""
#endif

namespace sharelab::data {

namespace {

constexpr const char* kLibName = "libsharelab_spm.so";

std::string exe_dir() {
  std::vector<char> buf(4096);
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  std::string p(buf.data(), size_t(n));
  const auto slash = p.find_last_of('/');
  return slash == std::string::npos ? "" : p.substr(0, slash);
}

template <typename F>
void resolve(void* h, const char* name, F& fn, const std::string& path) {
  fn = reinterpret_cast<F>(::dlsym(h, name));
  if (!fn) throw std::runtime_error(path + ": missing symbol " + name + " (stale libsharelab_spm.so?)");
}

SpmLibrary open_library() {
  std::vector<std::string> candidates;
  if (auto d = exe_dir(); !d.empty()) candidates.push_back(d + "/" + kLibName);
  if (const char* env = std::getenv("SHARELAB_SPM_LIB"); env && *env) candidates.push_back(env);
  if (*SHARELAB_SPM_LIB_PATH) candidates.push_back(SHARELAB_SPM_LIB_PATH);
  std::vector<std::string> tried;
  for (const auto& path : candidates) {
    if (::access(path.c_str(), R_OK) != 0) {
      tried.push_back(path + " (absent)");
      continue;
    }
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!h) {
      tried.push_back(path + " (" + ::dlerror() + ")");
      continue;
    }
    SpmLibrary lib;
    lib.path = path;
    int (*version)(void) = nullptr;
    resolve(h, "slspm_api_version", version, path);
    if (version() != SLSPM_API_VERSION) throw std::runtime_error(path + ": API version mismatch");
    resolve(h, "slspm_load", lib.load, path);
    resolve(h, "slspm_close", lib.close, path);
    resolve(h, "slspm_encode", lib.encode, path);
    resolve(h, "slspm_decode", lib.decode, path);
    resolve(h, "slspm_id_to_piece", lib.id_to_piece, path);
    resolve(h, "slspm_piece_size", lib.piece_size, path);
    resolve(h, "slspm_bos_id", lib.bos_id, path);
    resolve(h, "slspm_eos_id", lib.eos_id, path);
    resolve(h, "slspm_unk_id", lib.unk_id, path);
    resolve(h, "slspm_free_buf", lib.free_buf, path);
    return lib;  // never dlclose'd: SentencePiece keeps static state for the process lifetime
  }
  throw std::runtime_error(fmt::format("cannot load {}; tried: {} (build target sharelab_spm, or set SHARELAB_SPM_LIB)",
                                       kLibName, fmt::join(tried, ", ")));
}

}  // namespace

const SpmLibrary& spm_library() {
  static const SpmLibrary lib = open_library();  // thread-safe static init
  return lib;
}

}  // namespace sharelab::data
