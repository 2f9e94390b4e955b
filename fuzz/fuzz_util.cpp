// Scratch files, input splitting and the expected-error check of the fuzz targets (fuzz_target.h).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "fuzz/fuzz_target.h"

namespace sharelab::fuzz {

namespace fs = std::filesystem;

std::vector<Target>& targets() {
  static std::vector<Target> t;
  return t;
}

const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/sharelab-fuzz-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("fuzz: cannot create a folder from " + pattern);
    static std::string made;
    made = pattern;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(made, ec);
    });
    return pattern;
  }();
  return dir;
}

void write_file(const std::string& path, const std::string& bytes, bool present) {
  std::error_code ec;
  if (!present) {
    fs::remove(path, ec);
    return;
  }
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error("fuzz: cannot write " + path);
}

Parts split_parts(const uint8_t* data, size_t size, size_t n) {
  static const std::string kSep = "\n---\n";
  const std::string in(reinterpret_cast<const char*>(data), size);
  Parts p{std::vector<std::string>(n), std::vector<bool>(n, false)};
  size_t pos = 0;
  for (size_t k = 0; k < n && pos <= in.size(); ++k) {
    size_t end = k + 1 < n ? in.find(kSep, pos) : std::string::npos;
    if (end == std::string::npos) end = in.size();
    p.text[k] = in.substr(pos, end - pos);
    p.present[k] = true;
    pos = end + kSep.size();
  }
  return p;
}

bool escapes_scratch(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  for (const char* s : {"/proc", "/sys", "/dev", "\\u", "\\U"})
    if (in.find(s) != std::string::npos) return true;
  return false;
}

void unexpected_message(const std::string& file, const std::string& message) {
  throw std::logic_error("fuzz: a ConfigError that does not name the file " + file + ": " + message);
}

bool verbose() {
  static const bool v = std::getenv("SHARELAB_FUZZ_VERBOSE") != nullptr;
  return v;
}

void note_expected(const std::string& message) { std::fprintf(stderr, "expected: %s\n", message.c_str()); }

}  // namespace sharelab::fuzz
