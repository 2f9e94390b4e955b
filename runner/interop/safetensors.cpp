// safetensors reading and writing (see safetensors.h).
#include "runner/interop/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "runner/interop/safetensors_header.h"

namespace sharelab::interop {

using nlohmann::json;

DiskDtype parse_disk_dtype(const std::string& text, const std::string& field) {
  if (text == "f32" || text == "fp32" || text == "float32") return DiskDtype::kF32;
  if (text == "bf16" || text == "bfloat16") return DiskDtype::kBF16;
  if (text == "f16" || text == "fp16" || text == "float16") return DiskDtype::kF16;
  throw ConfigError(field + " = '" + text + "': expected f32, bf16 or f16");
}

const char* safetensors_name(DiskDtype d) {
  return d == DiskDtype::kF32 ? "F32" : d == DiskDtype::kBF16 ? "BF16" : "F16";
}
const char* torch_name(DiskDtype d) {
  return d == DiskDtype::kF32 ? "float32" : d == DiskDtype::kBF16 ? "bfloat16" : "float16";
}
int64_t dtype_bytes(DiskDtype d) { return d == DiskDtype::kF32 ? 4 : 2; }
torch::ScalarType scalar_type(DiskDtype d) {
  return d == DiskDtype::kF32 ? torch::kFloat : d == DiskDtype::kBF16 ? torch::kBFloat16 : torch::kHalf;
}

namespace {

// The checked header of an open file (safetensors_header.h); the data is read through `in` after.
SafetensorsHeader read_header(std::ifstream& in, const std::string& path) {
  if (!in) throw ConfigError(path + ": cannot open safetensors file");
  in.seekg(0, std::ios::end);
  const uint64_t file_size = uint64_t(in.tellg());
  in.seekg(0);
  unsigned char len_bytes[8];
  const bool have_len = file_size >= 8 && in.read(reinterpret_cast<char*>(len_bytes), 8);
  const uint64_t header_len = safetensors_header_length(have_len ? len_bytes : nullptr, file_size, path);
  std::string text(header_len, '\0');
  if (!in.read(text.data(), std::streamsize(header_len))) throw ConfigError(path + ": truncated header");
  return parse_safetensors_header(text, file_size, path);
}

}  // namespace

std::map<std::string, torch::Tensor> read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const SafetensorsHeader h = read_header(in, path);
  std::map<std::string, torch::Tensor> out;
  for (const SafetensorsEntry& e : h.tensors) {
    const std::string where = path + ": tensor '" + e.name + "'";
    torch::ScalarType st;
    if (e.dtype == "F32") st = torch::kFloat;
    else if (e.dtype == "BF16") st = torch::kBFloat16;
    else if (e.dtype == "F16") st = torch::kHalf;
    else throw ConfigError(where + ": dtype " + e.dtype + " not supported (expected F32, BF16 or F16)");
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(st));
    in.seekg(std::streamoff(h.data_start + e.begin));
    if (!in.read(static_cast<char*>(t.data_ptr()), std::streamsize(e.end - e.begin)))
      throw ConfigError(where + ": truncated data");
    out[e.name] = t.to(torch::kFloat);
  }
  return out;
}

std::map<std::string, std::vector<int64_t>> read_safetensors_shapes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const SafetensorsHeader h = read_header(in, path);
  std::map<std::string, std::vector<int64_t>> out;
  for (const SafetensorsEntry& e : h.tensors) out[e.name] = e.shape;
  return out;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors, DiskDtype dtype,
                       const std::map<std::string, std::string>& metadata) {
  // nlohmann's ordered_json keeps the tensors in the order given (HF writers sort; readers don't care).
  nlohmann::ordered_json h;
  nlohmann::ordered_json meta = {{"format", "pt"}};
  for (const auto& [k, v] : metadata) meta[k] = v;
  h["__metadata__"] = meta;
  uint64_t offset = 0;
  const uint64_t elem = uint64_t(dtype_bytes(dtype));
  for (const auto& [name, t] : tensors) {
    if (h.contains(name)) throw std::logic_error("write_safetensors: duplicate tensor " + name);
    const uint64_t n = uint64_t(t.numel()) * elem;
    h[name] = {{"dtype", safetensors_name(dtype)}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // the reference writer pads to 8 bytes
  arch::write_file_atomic(path, [&](std::ostream& out) {
    char len[8];
    for (int i = 0; i < 8; ++i) len[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xFF);
    out.write(len, 8);
    out.write(header.data(), std::streamsize(header.size()));
    for (const auto& [name, t0] : tensors) {
      // One tensor converted at a time: a 1.5B model is never held twice.
      const torch::Tensor t = t0.detach().to(torch::kCPU).to(scalar_type(dtype)).contiguous();
      out.write(static_cast<const char*>(t.data_ptr()), std::streamsize(uint64_t(t.numel()) * elem));
    }
  });
}

void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors) {
  write_safetensors(path, NamedTensors(tensors.begin(), tensors.end()), DiskDtype::kF32);
}

}  // namespace sharelab::interop
