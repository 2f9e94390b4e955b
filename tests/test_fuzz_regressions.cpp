// Every saved fuzz input (fuzz/regressions/<target>/: the inputs that once crashed, with their
// fixes; fuzz/corpus/<target>/: the seeds) replayed through the fuzz targets' own entry points in
// the normal build (fuzz/fuzz_target.h): each must return, or end in a ConfigError naming its file.
// The libFuzzer build itself is `make fuzz` (scripts/fuzz.sh).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"

namespace fs = std::filesystem;
using sharelab::fuzz::targets;

namespace {

std::vector<fs::path> inputs(const fs::path& dir) {
  std::vector<fs::path> out;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("every fuzz target is registered once and has a seed corpus") {
  const fs::path root = fs::path(SHARELAB_SOURCE_DIR) / "fuzz";
  std::vector<std::string> names;
  for (const auto& t : targets()) names.push_back(t.name);
  CHECK(names.size() == 11);  // fuzz/targets.cmake
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  for (const auto& n : names) {
    INFO("fuzz target " << n);
    CHECK(!inputs(root / "corpus" / n).empty());
  }
  // A regression folder names a target (a typo would leave its inputs unreplayed).
  for (const auto& e : fs::directory_iterator(root / "regressions")) {
    INFO("fuzz/regressions/" << e.path().filename().string());
    CHECK(std::binary_search(names.begin(), names.end(), e.path().filename().string()));
  }
}

TEST_CASE("saved fuzz inputs replay without crashes or unexpected exceptions") {
  const fs::path root = fs::path(SHARELAB_SOURCE_DIR) / "fuzz";
  size_t replayed = 0;
  for (const auto& t : targets()) {
    for (const char* kind : {"regressions", "corpus"}) {
      for (const auto& p : inputs(root / kind / t.name)) {
        INFO(kind << "/" << t.name << "/" << p.filename().string());
        const std::string bytes = read_bytes(p);
        CHECK_NOTHROW(t.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
        ++replayed;
      }
    }
  }
  CHECK(replayed >= 40);
}
