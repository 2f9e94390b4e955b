// Helpers shared by the data-pipeline tests: a temporary folder that cleans up after itself, and
// writers for small Amber-format jsonl files and mix TOMLs (generated per test, nothing shipped).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace sharelab::data::testing {

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sharelab_data_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The ids of Amber row `line` (1-based) of a file tagged `salt`: distinct per row, < vocab.
inline std::vector<uint32_t> amber_ids(int salt, int line, int cols, int vocab) {
  std::vector<uint32_t> ids(static_cast<size_t>(cols));
  for (int k = 0; k < cols; ++k) ids[size_t(k)] = uint32_t((salt * 7919 + line * 131 + k * 17) % vocab);
  return ids;
}

inline std::string amber_line(const std::vector<uint32_t>& ids, const std::string& source) {
  std::string s = "{\"token_ids\": [";
  for (size_t k = 0; k < ids.size(); ++k) s += (k ? ", " : "") + std::to_string(ids[k]);
  return s + "], \"source\": \"" + source + "\"}\n";
}

inline void write_amber(const std::string& path, int salt, int lines, int cols, int vocab) {
  std::string s;
  for (int l = 1; l <= lines; ++l) s += amber_line(amber_ids(salt, l, cols, vocab), "arxiv");
  write_text(path, s);
}

}  // namespace sharelab::data::testing
