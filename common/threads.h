// Intra-op thread counts: a setting of 0 means every core (LibTorch's own default here is 1).
#pragma once

#include <algorithm>
#include <thread>

namespace sharelab {

inline int threads_or_cores(int threads) {
  return threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace sharelab
