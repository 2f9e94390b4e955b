// The fuzz targets' common frame. Each fuzz_<name>.cpp defines one entry point with
// SHARELAB_FUZZ_TARGET(name) { ... }: with -DSHARELAB_LIBFUZZER it is the binary's
// LLVMFuzzerTestOneInput (fuzz/CMakeLists.txt, clang -fsanitize=fuzzer); otherwise it registers
// itself by name, so that tests/test_fuzz_regressions.cpp replays every saved input through the very
// same code in the normal build.
//
// The contract every target checks: a parser given any bytes returns, or throws ConfigError (the
// project's one user-facing error) whose message names the file it read. Any other exception, a
// crash, a sanitizer report, a hang or an unbounded allocation is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/errors.h"

namespace sharelab::fuzz {

using Entry = int (*)(const uint8_t* data, size_t size);

struct Target {
  std::string name;
  Entry run;
};

std::vector<Target>& targets();  // the registered ones (normal build only), in registration order

struct Register {
  Register(const char* name, Entry run) { targets().push_back({name, run}); }
};

// A folder of this process for the files a target writes (under $TMPDIR, removed at exit).
const std::string& scratch_dir();

// Writes bytes to `path` (creating its folder), or removes `path` when `present` is false.
void write_file(const std::string& path, const std::string& bytes, bool present = true);

// The input cut at each "\n---\n" into at most `n` parts (the last keeps any further separators);
// absent parts are returned as empty with present[k] = false.
struct Parts {
  std::vector<std::string> text;
  std::vector<bool> present;
};
Parts split_parts(const uint8_t* data, size_t size, size_t n);

// Runs `parse`: a ConfigError whose message names `file` (a path, or the folder of several) is the
// expected outcome for bad input; one that does not name it, or any other exception, escapes (a bug).
template <typename F>
void expect_config_error(const std::string& file, F parse);

// True for inputs that would make a reader leave the scratch folder for the system's special
// files (/proc, /sys, /dev, also spelled with TOML's unicode escapes), which can block: the targets that
// follow paths (sweep extends, scales) skip them.
bool escapes_scratch(const uint8_t* data, size_t size);

// --- implementation ----------------------------------------------------------------------------

[[noreturn]] void unexpected_message(const std::string& file, const std::string& message);
bool verbose();                              // $SHARELAB_FUZZ_VERBOSE set: print each expected error
void note_expected(const std::string& message);

template <typename F>
void expect_config_error(const std::string& file, F parse) {
  try {
    parse();
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    if (msg.find(file) == std::string::npos) unexpected_message(file, msg);
    if (verbose()) note_expected(msg);
  }
}

}  // namespace sharelab::fuzz

#ifdef SHARELAB_LIBFUZZER
#define SHARELAB_FUZZ_TARGET(name)                                                        \
  static int sharelab_fuzz_##name(const uint8_t* data, size_t size);                      \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {               \
    return sharelab_fuzz_##name(data, size);                                              \
  }                                                                                       \
  static int sharelab_fuzz_##name(const uint8_t* data, size_t size)
#else
#define SHARELAB_FUZZ_TARGET(name)                                                        \
  static int sharelab_fuzz_##name(const uint8_t* data, size_t size);                      \
  static const ::sharelab::fuzz::Register sharelab_fuzz_register_##name(#name, sharelab_fuzz_##name); \
  static int sharelab_fuzz_##name(const uint8_t* data, size_t size)
#endif
