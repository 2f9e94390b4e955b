// A generic GGUF v3 writer (ggml docs/gguf.md; ../shared/notes/ecosystem.md §2.5), no LibTorch:
// typed key/value metadata, tensor infos (ggml dims = the reversed PyTorch shape), then the data,
// each tensor at an offset aligned to `general.alignment` (32). The header is built in memory (it
// is small: keys, the vocabulary, the infos); the tensor data is streamed after it, one tensor at
// a time, so a 1.5B-parameter file never sits in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace sharelab::interop::gguf {

// gguf_type: the numbers are part of the format.
enum class ValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
// The ggml_type values we write (the unquantised ones).
enum class TensorType : uint32_t { kF32 = 0, kF16 = 1, kBF16 = 30 };

constexpr uint32_t kVersion = 3;
constexpr uint32_t kDefaultAlignment = 32;
constexpr size_t kMaxNameBytes = 63;  // GGML_MAX_NAME (64) with its terminating NUL
constexpr size_t kMaxDims = 4;        // GGML_MAX_DIMS

size_t element_bytes(TensorType t);
const char* type_name(TensorType t);  // "F32", "F16", "BF16"

// One metadata value, already encoded in GGUF's little-endian layout (without the type tag).
struct Value {
  ValueType type = ValueType::kU8;
  ValueType elem = ValueType::kU8;  // arrays only
  std::string bytes;

  static Value u8(uint8_t v);
  static Value i8(int8_t v);
  static Value u16(uint16_t v);
  static Value i16(int16_t v);
  static Value u32(uint32_t v);
  static Value i32(int32_t v);
  static Value u64(uint64_t v);
  static Value i64(int64_t v);
  static Value f32(float v);
  static Value f64(double v);
  static Value boolean(bool v);
  static Value string(const std::string& v);
  static Value strings(const std::vector<std::string>& v);
  static Value f32s(const std::vector<float>& v);
  static Value i32s(const std::vector<int32_t>& v);
  static Value u32s(const std::vector<uint32_t>& v);
  static Value i64s(const std::vector<int64_t>& v);
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // PyTorch order (outermost first); written reversed
  TensorType type = TensorType::kF32;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t nbytes = 0;
};

class Writer {
 public:
  // Sets general.alignment (u32) as the first key, so readers need not assume the default.
  explicit Writer(uint32_t alignment = kDefaultAlignment);

  // Keys keep insertion order; a repeated key is a std::logic_error (ggml rejects the file).
  void set(const std::string& key, Value value);
  // Appends an info; std::logic_error on a repeated or over-long name, > 4 dims or a negative dim.
  void add_tensor(const std::string& name, const std::vector<int64_t>& torch_shape, TensorType type);

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  size_t kv_count() const { return keys_.size(); }
  uint32_t alignment() const { return alignment_; }

  // Magic, version, counts, KVs, tensor infos, zero padding up to the aligned data start.
  std::string header() const;
  // Total file size: header + every tensor's data padded to the alignment.
  uint64_t file_size() const;

  // Streams the file: header, then for each tensor in order `fill(i, out)` must write exactly
  // tensors()[i].nbytes bytes (checked via tellp), then the padding. std::runtime_error on a
  // short write.
  void write(std::ostream& out, const std::function<void(size_t, std::ostream&)>& fill) const;

 private:
  uint32_t alignment_;
  std::vector<std::string> keys_;
  std::string kv_bytes_;
  std::vector<TensorInfo> tensors_;
  uint64_t data_size_ = 0;
};

// Writes `w` to `path` atomically: a temporary file in the same folder, renamed into place once
// complete; on any exception the temporary is removed and nothing appears at `path`.
void write_file(const std::string& path, const Writer& w, const std::function<void(size_t, std::ostream&)>& fill);

}  // namespace sharelab::interop::gguf
