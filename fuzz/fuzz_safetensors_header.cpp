// The header of a .safetensors file (u64 LE length + JSON), as read_safetensors() checks it
// before reading any data: the input is the whole file.
#include "fuzz/fuzz_target.h"
#include "runner/interop/safetensors_header.h"

SHARELAB_FUZZ_TARGET(safetensors_header) {
  using namespace sharelab;
  const std::string file = "fuzz/model.safetensors";
  fuzz::expect_config_error(file, [&] {
    const uint64_t len = interop::safetensors_header_length(size >= 8 ? data : nullptr, size, file);
    const auto h = interop::parse_safetensors_header(std::string(reinterpret_cast<const char*>(data) + 8, len),
                                                     size, file);
    for (const auto& t : h.tensors)
      if (h.data_start + t.end > size) throw std::logic_error("tensor data outside the file");
  });
  return 0;
}
