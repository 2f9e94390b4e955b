// Helpers for the sweep tests: scratch files under the build tree and the first line of a
// ConfigError thrown by loading + expanding a sweep.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "common/errors.h"
#include "runner/sweep/expand.h"
#include "runner/sweep/sweep_file.h"

namespace sweep_test {

namespace fs = std::filesystem;

inline fs::path scratch(const std::string& name) {
  fs::path d = fs::path(SHARELAB_BINARY_DIR) / "test_sweep_tmp" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

inline std::string write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p.string()) << text;
  return p.string();
}

inline std::vector<sharelab::sweep::PlannedRun> expand(const std::string& file,
                                                       const sharelab::sweep::ExpandOptions& o = {}) {
  return sharelab::sweep::expand_sweep(sharelab::sweep::load_sweep(file), o);
}

// The message of the ConfigError that loading + expanding throws ("" when none).
inline std::string error_of(const std::string& file, const sharelab::sweep::ExpandOptions& o = {}) {
  try {
    expand(file, o);
  } catch (const sharelab::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace sweep_test
