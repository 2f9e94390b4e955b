#include "arch/layer_reuse.h"

namespace sharelab::arch {

std::vector<bool> immediate_repeats(const ModelSpec& spec) {
  const auto lay = spec.layout();
  std::vector<bool> out(size_t(spec.n_layers), false);
  for (size_t s = 1; s < out.size(); ++s)
    out[s] = lay.attn_of[s] == lay.attn_of[s - 1] && lay.ffn_of[s] == lay.ffn_of[s - 1];
  return out;
}

LayerSplit split_layers(const ModelSpec& spec, const std::vector<double>& per_layer_ms) {
  const auto rep = immediate_repeats(spec);
  LayerSplit out;
  for (size_t s = 0; s < per_layer_ms.size() && s < rep.size(); ++s) {
    (rep[s] ? out.repeat_ms : out.first_ms) += per_layer_ms[s];
    ++(rep[s] ? out.repeat_n : out.first_n);
  }
  if (out.first_n) out.first_ms /= double(out.first_n);
  if (out.repeat_n) out.repeat_ms /= double(out.repeat_n);
  return out;
}

}  // namespace sharelab::arch
