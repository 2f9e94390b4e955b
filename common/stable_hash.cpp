#include "common/stable_hash.h"

#include <fmt/format.h>

namespace sharelab {

uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 14695981039346656037ull;  // FNV-64 offset basis
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;  // FNV-64 prime
  return h;
}

std::string stable_hash(std::string_view text) { return fmt::format("{:016x}", fnv1a64(text)); }

}  // namespace sharelab
