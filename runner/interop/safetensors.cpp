// safetensors reading and writing (see safetensors.h).
#include "runner/interop/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "common/atomic_file.h"
#include "common/errors.h"

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

struct Header {
  json entries;
  uint64_t data_start = 0, data_size = 0;
};

Header read_header(std::ifstream& in, const std::string& path) {
  if (!in) throw ConfigError(path + ": cannot open safetensors file");
  in.seekg(0, std::ios::end);
  const uint64_t file_size = uint64_t(in.tellg());
  in.seekg(0);
  unsigned char len_bytes[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(len_bytes), 8))
    throw ConfigError(path + ": shorter than the 8-byte safetensors header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];  // little-endian u64
  if (header_len > 100000000 || 8 + header_len > file_size)
    throw ConfigError(path + ": header length " + std::to_string(header_len) + " does not fit the file (" +
                      std::to_string(file_size) + " bytes)");
  std::string text(header_len, '\0');
  in.read(text.data(), std::streamsize(header_len));
  Header h;
  try {
    h.entries = json::parse(text);
  } catch (const json::parse_error& e) {
    throw ConfigError(path + ": header is not valid JSON (" + e.what() + ")");
  }
  if (!h.entries.is_object()) throw ConfigError(path + ": header is not a JSON object");
  h.data_start = 8 + header_len;
  h.data_size = file_size - h.data_start;
  return h;
}

void check_entry(const json& info, const std::string& where) {
  if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets") ||
      !info["dtype"].is_string() || !info["shape"].is_array() || !info["data_offsets"].is_array())
    throw ConfigError(where + ": header entry needs dtype, shape and data_offsets");
}

}  // namespace

std::map<std::string, torch::Tensor> read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const Header h = read_header(in, path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, info] : h.entries.items()) {
    if (name == "__metadata__") continue;
    const std::string where = path + ": tensor '" + name + "'";
    check_entry(info, where);
    const std::string dtype = info["dtype"].get<std::string>();
    torch::ScalarType st;
    int64_t elem = 0;
    if (dtype == "F32") st = torch::kFloat, elem = 4;
    else if (dtype == "BF16") st = torch::kBFloat16, elem = 2;
    else if (dtype == "F16") st = torch::kHalf, elem = 2;
    else throw ConfigError(where + ": dtype " + dtype + " not supported (expected F32, BF16 or F16)");
    std::vector<int64_t> shape = info["shape"].get<std::vector<int64_t>>();
    int64_t numel = 1;
    for (auto d : shape) numel *= d;
    const auto off = info["data_offsets"].get<std::vector<uint64_t>>();
    if (off.size() != 2 || off[1] < off[0] || off[1] > h.data_size || off[1] - off[0] != uint64_t(numel * elem))
      throw ConfigError(where + ": data_offsets do not match its shape and dtype or lie outside the file");
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(st));
    in.seekg(std::streamoff(h.data_start + off[0]));
    if (!in.read(static_cast<char*>(t.data_ptr()), std::streamsize(off[1] - off[0])))
      throw ConfigError(where + ": truncated data");
    out[name] = t.to(torch::kFloat);
  }
  return out;
}

std::map<std::string, std::vector<int64_t>> read_safetensors_shapes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const Header h = read_header(in, path);
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& [name, info] : h.entries.items()) {
    if (name == "__metadata__") continue;
    check_entry(info, path + ": tensor '" + name + "'");
    out[name] = info["shape"].get<std::vector<int64_t>>();
  }
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
