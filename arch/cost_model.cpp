// The cost model: FLOPs, training memory and projected time from the spec alone.
#include "arch/cost_model.h"

#include "arch/accounting.h"
#include "common/named_rows.h"

namespace sharelab::arch {

double train_flops_per_token(const ModelSpec& s, int64_t seq) {
  return 3.0 * forward_flops_per_token(s, seq);
}

double activation_bytes_per_layer(const ModelSpec& s, int64_t micro_batch, int64_t seq, bool flash_attention) {
  const double sb = double(seq) * double(micro_batch);
  const double probs =
      flash_attention ? 0.0 : 2.0 * double(s.n_heads) * double(seq) * double(seq) * double(micro_batch);
  return sb * (16.0 * double(s.d_model) + 8.0 * double(s.ffn_dim)) + probs;
}

double activation_bytes(const ModelSpec& s, int64_t micro_batch, int64_t seq, bool flash_attention) {
  // Every executed layer saves its own activations, shared or not: sharing saves weights only.
  const double layers = double(s.n_layers) * activation_bytes_per_layer(s, micro_batch, seq, flash_attention);
  const double logits = 6.0 * double(seq) * double(micro_batch) * double(s.vocab_size);
  return layers + logits;
}

TrainMemory train_memory(const ModelSpec& s, const MemoryOptions& o) {
  if (o.micro_batch < 1 || o.seq < 1)
    throw ConfigError("cost model: micro_batch " + std::to_string(o.micro_batch) + " and seq " + std::to_string(o.seq) +
                      " must both be >= 1");
  double per;
  if (o.weight_dtype == "fp32")
    per = 4;
  else if (o.weight_dtype == "bf16")
    per = 2;
  else
    throw ConfigError("cost model: weight_dtype '" + o.weight_dtype + "'; expected fp32 or bf16");
  const double n = double(unique_params(s).total());  // the optimizer steps unique tensors only
  TrainMemory m;
  m.weights = per * n;
  m.gradients = per * n;
  m.optimizer = 8.0 * n;
  m.activations = activation_bytes(s, o.micro_batch, o.seq, o.flash_attention);
  return m;
}

const std::vector<Accelerator>& accelerators() {
  // Dense (no sparsity) bf16 peaks from NVIDIA's A100 and H100 datasheets.
  static const std::vector<Accelerator> k = {
      {"a100-80gb", "NVIDIA A100-SXM4-80GB", 312e12, 80e9},
      {"h100-sxm", "NVIDIA H100-SXM5-80GB", 989e12, 80e9},
  };
  return k;
}

const Accelerator& accelerator_by_name(const std::string& name) {
  return find_named(accelerators(), name, "accelerator");
}

Projection project_training(const ModelSpec& s, int64_t seq, double tokens, const Accelerator& acc, double mfu,
                            int n_devices) {
  if (!(mfu > 0 && mfu <= 1))
    throw ConfigError("cost model: utilisation (mfu) " + std::to_string(mfu) + " must be in (0, 1]");
  if (!(tokens > 0)) throw ConfigError("cost model: token budget " + std::to_string(tokens) + " must be > 0");
  if (n_devices < 1) throw ConfigError("cost model: devices " + std::to_string(n_devices) + " must be >= 1");
  Projection p;
  p.accelerator = acc.name;
  p.n_devices = n_devices;
  p.tokens = tokens;
  p.mfu = mfu;
  p.flops = tokens * train_flops_per_token(s, seq);
  const double device_seconds = p.flops / (acc.peak_bf16_flops * mfu);
  p.wall_s = device_seconds / double(n_devices);
  p.device_hours = device_seconds / 3600.0;
  return p;
}

double mfu_from_throughput(const ModelSpec& s, int64_t seq, double tokens_per_s, double peak_flops) {
  return tokens_per_s * train_flops_per_token(s, seq) / peak_flops;
}

}  // namespace sharelab::arch
