// safetensors header parsing and checks (see safetensors_header.h).
#include "runner/interop/safetensors_header.h"

#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "common/json_error.h"

namespace sharelab::interop {

using nlohmann::json;

int64_t safetensors_dtype_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "BF16" || dtype == "F16") return 2;
  return 0;
}

uint64_t safetensors_header_length(const unsigned char* first8, uint64_t file_size, const std::string& path) {
  if (!first8 || file_size < 8) throw ConfigError(path + ": shorter than the 8-byte safetensors header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | first8[i];  // little-endian u64
  if (header_len > 100000000 || 8 + header_len > file_size)
    throw ConfigError(path + ": header length " + std::to_string(header_len) + " does not fit the file (" +
                      std::to_string(file_size) + " bytes)");
  return header_len;
}

SafetensorsHeader parse_safetensors_header(const std::string& json_text, uint64_t file_size, const std::string& path) {
  json entries;
  try {
    entries = json::parse(json_text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e505
    throw ConfigError(path + ": header is not valid JSON (" + json_error_reason(e) + ")");
  }
  if (!entries.is_object()) throw ConfigError(path + ": header is not a JSON object");
  SafetensorsHeader h;
  h.data_start = 8 + json_text.size();
  if (h.data_start > file_size)
    throw ConfigError(path + ": header length " + std::to_string(json_text.size()) + " does not fit the file (" +
                      std::to_string(file_size) + " bytes)");
  h.data_size = file_size - h.data_start;
  for (const auto& [name, info] : entries.items()) {
    if (name == "__metadata__") continue;
    const std::string where = path + ": tensor '" + name + "'";
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets") ||
        !info["dtype"].is_string() || !info["shape"].is_array() || !info["data_offsets"].is_array())
      throw ConfigError(where + ": header entry needs dtype, shape and data_offsets");
    SafetensorsEntry e;
    e.name = name;
    e.dtype = info["dtype"].get<std::string>();
    int64_t numel = 1;
    for (const json& d : info["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(INT64_MAX))
        throw ConfigError(where + ": shape " + info["shape"].dump() + " must hold integers >= 0");
      const int64_t dim = int64_t(d.get<uint64_t>());
      if (__builtin_mul_overflow(numel, dim, &numel))
        throw ConfigError(where + ": shape " + info["shape"].dump() + " has more than 2^63 elements");
      e.shape.push_back(dim);
    }
    const json& off = info["data_offsets"];
    if (off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw ConfigError(where + ": data_offsets " + off.dump() + " must be two integers >= 0");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    const int64_t elem = safetensors_dtype_size(e.dtype);
    int64_t bytes = 0;
    if (e.end < e.begin || e.end > h.data_size ||
        (elem > 0 && (__builtin_mul_overflow(numel, elem, &bytes) || e.end - e.begin != uint64_t(bytes))))
      throw ConfigError(where + ": data_offsets do not match its shape and dtype or lie outside the file");
    h.tensors.push_back(std::move(e));
  }
  return h;
}

}  // namespace sharelab::interop
