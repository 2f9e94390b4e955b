// GGUF v3 encoding (see gguf_writer.h). Everything little-endian, as ggml reads it on every host
// we support (x86-64, aarch64); strings are a u64 byte count then the bytes, no NUL.
#include "runner/interop/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>

#include "common/atomic_file.h"
#include "common/errors.h"

namespace sharelab::interop::gguf {

namespace {

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian host
  out.append(b, sizeof(T));
}
void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}
template <typename T>
Value scalar(ValueType type, T v) {
  Value x;
  x.type = type;
  put(x.bytes, v);
  return x;
}
template <typename T>
Value array(ValueType elem, const std::vector<T>& v) {
  Value x;
  x.type = ValueType::kArray;
  x.elem = elem;
  put<uint32_t>(x.bytes, uint32_t(elem));
  put<uint64_t>(x.bytes, v.size());
  for (const T& e : v) put(x.bytes, e);
  return x;
}
uint64_t pad(uint64_t n, uint64_t align) { return (n + align - 1) / align * align; }

}  // namespace

size_t element_bytes(TensorType t) { return t == TensorType::kF32 ? 4 : 2; }
const char* type_name(TensorType t) {
  return t == TensorType::kF32 ? "F32" : t == TensorType::kF16 ? "F16" : "BF16";
}

Value Value::u8(uint8_t v) { return scalar(ValueType::kU8, v); }
Value Value::i8(int8_t v) { return scalar(ValueType::kI8, v); }
Value Value::u16(uint16_t v) { return scalar(ValueType::kU16, v); }
Value Value::i16(int16_t v) { return scalar(ValueType::kI16, v); }
Value Value::u32(uint32_t v) { return scalar(ValueType::kU32, v); }
Value Value::i32(int32_t v) { return scalar(ValueType::kI32, v); }
Value Value::u64(uint64_t v) { return scalar(ValueType::kU64, v); }
Value Value::i64(int64_t v) { return scalar(ValueType::kI64, v); }
Value Value::f32(float v) { return scalar(ValueType::kF32, v); }
Value Value::f64(double v) { return scalar(ValueType::kF64, v); }
Value Value::boolean(bool v) { return scalar(ValueType::kBool, uint8_t(v ? 1 : 0)); }
Value Value::string(const std::string& v) {
  Value x;
  x.type = ValueType::kString;
  put_string(x.bytes, v);
  return x;
}
Value Value::strings(const std::vector<std::string>& v) {
  Value x;
  x.type = ValueType::kArray;
  x.elem = ValueType::kString;
  put<uint32_t>(x.bytes, uint32_t(ValueType::kString));
  put<uint64_t>(x.bytes, v.size());
  for (const auto& s : v) put_string(x.bytes, s);
  return x;
}
Value Value::f32s(const std::vector<float>& v) { return array(ValueType::kF32, v); }
Value Value::i32s(const std::vector<int32_t>& v) { return array(ValueType::kI32, v); }
Value Value::u32s(const std::vector<uint32_t>& v) { return array(ValueType::kU32, v); }
Value Value::i64s(const std::vector<int64_t>& v) { return array(ValueType::kI64, v); }

Writer::Writer(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw std::logic_error("gguf::Writer: alignment " + std::to_string(alignment) + " is not a power of two");
  set("general.alignment", Value::u32(alignment));
}

void Writer::set(const std::string& key, Value value) {
  for (const auto& k : keys_)
    if (k == key) throw std::logic_error("gguf::Writer: key '" + key + "' set twice");
  keys_.push_back(key);
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, uint32_t(value.type));
  kv_bytes_ += value.bytes;
}

void Writer::add_tensor(const std::string& name, const std::vector<int64_t>& torch_shape, TensorType type) {
  if (name.empty() || name.size() > kMaxNameBytes)
    throw std::logic_error("gguf::Writer: tensor name '" + name + "' must be 1.." + std::to_string(kMaxNameBytes) + " bytes");
  if (torch_shape.empty() || torch_shape.size() > kMaxDims)
    throw std::logic_error("gguf::Writer: tensor '" + name + "' has " + std::to_string(torch_shape.size()) +
                           " dims, expected 1..4");
  for (const auto& t : tensors_)
    if (t.name == name) throw std::logic_error("gguf::Writer: tensor '" + name + "' added twice");
  uint64_t numel = 1;
  for (int64_t d : torch_shape) {
    if (d < 0) throw std::logic_error("gguf::Writer: tensor '" + name + "' has a negative dim");
    numel *= uint64_t(d);
  }
  TensorInfo info{name, torch_shape, type, data_size_, numel * element_bytes(type)};
  // ggml checks each offset equals the previous one plus its padded size: no gaps, no reordering.
  data_size_ += pad(info.nbytes, alignment_);
  tensors_.push_back(std::move(info));
}

std::string Writer::header() const {
  std::string h;
  h += "GGUF";
  put<uint32_t>(h, kVersion);
  put<uint64_t>(h, tensors_.size());
  put<uint64_t>(h, keys_.size());
  h += kv_bytes_;
  for (const auto& t : tensors_) {
    put_string(h, t.name);
    put<uint32_t>(h, uint32_t(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) put<uint64_t>(h, uint64_t(*it));  // ne[0] = innermost
    put<uint32_t>(h, uint32_t(t.type));
    put<uint64_t>(h, t.offset);
  }
  h.append(pad(h.size(), alignment_) - h.size(), '\0');
  return h;
}

uint64_t Writer::file_size() const { return header().size() + data_size_; }

void Writer::write(std::ostream& out, const std::function<void(size_t, std::ostream&)>& fill) const {
  const std::string h = header();
  out.write(h.data(), std::streamsize(h.size()));
  static const char zeros[64] = {};
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto before = out.tellp();
    fill(i, out);
    if (!out || uint64_t(out.tellp() - before) != tensors_[i].nbytes)
      throw std::runtime_error("gguf::Writer: tensor '" + tensors_[i].name + "': expected " +
                               std::to_string(tensors_[i].nbytes) + " bytes of data");
    const uint64_t padding = pad(tensors_[i].nbytes, alignment_) - tensors_[i].nbytes;
    for (uint64_t left = padding; left > 0;) {
      const uint64_t n = left < sizeof zeros ? left : sizeof zeros;
      out.write(zeros, std::streamsize(n));
      left -= n;
    }
  }
}

void write_file(const std::string& path, const Writer& w, const std::function<void(size_t, std::ostream&)>& fill) {
  arch::write_file_atomic(path, [&](std::ostream& out) { w.write(out, fill); });
}

}  // namespace sharelab::interop::gguf
