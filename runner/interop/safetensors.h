// safetensors files (u64 LE header length, JSON header, raw little-endian row-major data), read and
// written by hand: Debian has no C++ safetensors library and the format is a page long
// (../shared/notes/ecosystem.md §2.2). Tensors are float32 in memory; F32, BF16 and F16 on disk.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sharelab::interop {

// A weight dtype on disk, as `--dtype` names it: f32, bf16 or f16.
enum class DiskDtype { kF32, kBF16, kF16 };
// "f32"/"fp32"/"float32", "bf16"/"bfloat16", "f16"/"fp16"/"float16"; ConfigError naming `field`.
DiskDtype parse_disk_dtype(const std::string& text, const std::string& field);
const char* safetensors_name(DiskDtype d);  // "F32", "BF16", "F16"
const char* torch_name(DiskDtype d);        // "float32", "bfloat16", "float16" (config.json's torch_dtype)
int64_t dtype_bytes(DiskDtype d);
torch::ScalarType scalar_type(DiskDtype d);

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Every tensor of one .safetensors file, as float32 CPU tensors. ConfigError naming the file and
// tensor on a bad header, an unsupported dtype or data outside the file.
std::map<std::string, torch::Tensor> read_safetensors(const std::string& path);
// The header alone: name -> shape (the data is not read).
std::map<std::string, std::vector<int64_t>> read_safetensors_shapes(const std::string& path);

// Writes the tensors in `dtype`, in the given order, with __metadata__ {"format": "pt", ...}
// (transformers refuses a file without it). Streamed to a temporary file renamed at the end.
void write_safetensors(const std::string& path, const NamedTensors& tensors, DiskDtype dtype,
                       const std::map<std::string, std::string>& metadata = {});
void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors);  // F32

}  // namespace sharelab::interop
