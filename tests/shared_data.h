// Tests that read the public benchmark files in ../shared/data (README.md "Benchmark files"). Such
// a test executable links shared_data_main.cpp instead of doctest_main.cpp and names what it reads
// with SHARELAB_NEEDS_SHARED_DATA("MANIFEST.md", ...); without the folder it exits 77 before any
// test case runs, and ctest (SKIP_RETURN_CODE 77) reports it skipped rather than passed.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

namespace sharelab_test {

// $SHARELAB_TASKS_DIR when set (also a way to check the skip: point it at a missing folder),
// else <source>/../shared/data.
inline std::string shared_data_dir() {
  const char* env = std::getenv("SHARELAB_TASKS_DIR");
  if (env && *env) return env;
  return std::string(SHARELAB_SOURCE_DIR) + "/../shared/data";
}

// Paths relative to shared_data_dir() that the executable's test cases read; defined by the
// test file through SHARELAB_NEEDS_SHARED_DATA, checked by shared_data_main.cpp.
extern const std::vector<std::string> needed_shared_data;

}  // namespace sharelab_test

#define SHARELAB_NEEDS_SHARED_DATA(...) \
  const std::vector<std::string> sharelab_test::needed_shared_data = {__VA_ARGS__}
