// The header of a safetensors file (u64 LE length, then a JSON object of tensor entries), parsed
// and checked without LibTorch: safetensors.cpp reads the data through it, and fuzz/ feeds it
// arbitrary bytes. Every problem is a ConfigError naming the file (and the tensor).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sharelab::interop {

// One tensor entry: dtype as written ("F32", "BF16", ...), a shape of non-negative dimensions
// whose element count fits int64, and data_offsets [begin, end) inside the data section (for
// F32/BF16/F16 also end - begin = elements x dtype size).
struct SafetensorsEntry {
  std::string name, dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

struct SafetensorsHeader {
  uint64_t data_start = 0, data_size = 0;  // the data section: file bytes [data_start, data_start + data_size)
  std::vector<SafetensorsEntry> tensors;   // in the header's key order (sorted), __metadata__ left out
};

// Bytes per element of the dtypes we read (F32, BF16, F16); 0 for any other.
int64_t safetensors_dtype_size(const std::string& dtype);

// The header length from the first 8 bytes of a file of `file_size` bytes; ConfigError when the
// file is shorter than 8 bytes (pass nullptr) or the header does not fit it.
uint64_t safetensors_header_length(const unsigned char* first8, uint64_t file_size, const std::string& path);

// Parses the JSON header text of a file of `file_size` bytes and checks every entry.
SafetensorsHeader parse_safetensors_header(const std::string& json_text, uint64_t file_size, const std::string& path);

}  // namespace sharelab::interop
