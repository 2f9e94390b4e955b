// Which executed layers reuse the blocks of the layer just before them (MobileLLM's immediate
// block-wise repeat), and per-layer timings split along that line: the decode profile's test of
// whether a block run twice in a row is cheaper the second time, its weights still in cache.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/model_spec.h"

namespace sharelab::arch {

// Per executed layer (slot): true when its attention and FFN are exactly those of the slot before.
std::vector<bool> immediate_repeats(const ModelSpec& spec);

// Mean ms of the slots that are immediate repeats and of the rest (0 with n = 0 where none).
struct LayerSplit {
  double first_ms = 0, repeat_ms = 0;
  int64_t first_n = 0, repeat_n = 0;
};
LayerSplit split_layers(const ModelSpec& spec, const std::vector<double>& per_layer_ms);

}  // namespace sharelab::arch
