// 64-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/): stable across builds and platforms,
// which std::hash is not. Run ids, geometry keys, spec hashes and few-shot seeds use it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sharelab {

uint64_t fnv1a64(std::string_view text);
std::string stable_hash(std::string_view text);  // fnv1a64 as 16 lower-case hex digits

}  // namespace sharelab
