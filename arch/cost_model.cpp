// The cost model: FLOPs, training memory and projected time from the spec alone.
#include "arch/cost_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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
  // NVIDIA's A100 and H100 datasheets: dense (no sparsity) bf16 peak; memory; memory bandwidth
  // (A100 SXM4 80GB: 2,039 GB/s; H100 SXM: 3.35 TB/s); NVLink 600 / 900 GB/s bidirectional, so
  // 300 / 450 GB/s in each direction.
  static const std::vector<Accelerator> k = {
      {"a100-80gb", "NVIDIA A100-SXM4-80GB", 312e12, 80e9, 2039e9, 300e9},
      {"h100-sxm", "NVIDIA H100-SXM5-80GB", 989e12, 80e9, 3350e9, 450e9},
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

namespace {

double dtype_bytes(const std::string& dtype, const char* what) {
  if (dtype == "fp32") return 4;
  if (dtype == "bf16") return 2;
  throw ConfigError(std::string("cost model: ") + what + " '" + dtype + "'; expected fp32 or bf16");
}

}  // namespace

double ring_allreduce_seconds(double bytes, int n_devices, double bus_bytes_per_s) {
  if (n_devices <= 1) return 0.0;
  return 2.0 * double(n_devices - 1) / double(n_devices) * bytes / bus_bytes_per_s;
}

StepTime project_data_parallel(const ModelSpec& s, double tokens, const Accelerator& acc,
                               const DataParallelOptions& o) {
  if (!(tokens > 0)) throw ConfigError("cost model: token budget " + std::to_string(tokens) + " must be > 0");
  if (o.n_devices < 1) throw ConfigError("cost model: devices " + std::to_string(o.n_devices) + " must be >= 1");
  if (o.devices_per_node < 1)
    throw ConfigError("cost model: devices per node " + std::to_string(o.devices_per_node) + " must be >= 1");
  if (o.global_batch < 1 || o.global_batch % o.n_devices != 0)
    throw ConfigError("cost model: global batch " + std::to_string(o.global_batch) +
                      " rows must be a positive multiple of " + std::to_string(o.n_devices) + " devices");
  if (!(o.mfu > 0 && o.mfu <= 1))
    throw ConfigError("cost model: utilisation (mfu) " + std::to_string(o.mfu) + " must be in (0, 1]");
  const bool spans_nodes = o.n_devices > o.devices_per_node;
  if (spans_nodes && !(o.internode_bytes_per_s > 0))
    throw ConfigError("cost model: " + std::to_string(o.n_devices) + " devices span nodes of " +
                      std::to_string(o.devices_per_node) + ": an inter-node bandwidth per node (> 0) is needed");
  const double grad_b = dtype_bytes(o.grad_dtype, "grad_dtype");
  const double weight_b = dtype_bytes(o.weight_dtype, "weight_dtype");
  const double unique = double(unique_params(s).total());

  StepTime t;
  t.tokens = tokens;
  t.rows_per_device = o.global_batch / o.n_devices;

  // Memory: model state of the unique params, then as many rows of activations as fit.
  MemoryOptions mo;
  mo.micro_batch = 1;
  mo.seq = o.seq;
  mo.weight_dtype = o.weight_dtype;
  mo.flash_attention = o.flash_attention;
  const TrainMemory m = train_memory(s, mo);
  t.state_bytes = m.weights + m.gradients + m.optimizer;
  t.activation_bytes_per_row = m.activations;  // activation_bytes is linear in the micro batch
  const double free_bytes = acc.memory_bytes - t.state_bytes;
  t.max_micro_batch = free_bytes > 0 ? int64_t(std::floor(free_bytes / t.activation_bytes_per_row)) : 0;
  if (t.max_micro_batch < 1)
    throw ConfigError(
        fmt::format("cost model: {:.1f} GB of model state + {:.1f} GB of activations for one row of {} "
                    "tokens exceed the {:.0f} GB of {}",
                    t.state_bytes / 1e9, t.activation_bytes_per_row / 1e9, o.seq, acc.memory_bytes / 1e9, acc.label));
  t.accumulation_steps = (t.rows_per_device + t.max_micro_batch - 1) / t.max_micro_batch;
  t.micro_batch = (t.rows_per_device + t.accumulation_steps - 1) / t.accumulation_steps;

  // Compute: the executed layers.
  const double flops_per_token = train_flops_per_token(s, o.seq);
  t.compute_s = double(t.rows_per_device) * double(o.seq) * flops_per_token / (acc.peak_bf16_flops * o.mfu);
  t.backward_overlap_s = (2.0 / 3.0) * t.compute_s / double(t.accumulation_steps);

  // All-reduce of the unique params' gradients.
  t.grad_bytes = unique * grad_b;
  if (o.n_devices > 1) {
    t.bus_bytes_per_s =
        spans_nodes ? std::min(acc.nvlink_bytes_per_s, o.internode_bytes_per_s) : acc.nvlink_bytes_per_s;
    t.allreduce_s = ring_allreduce_seconds(t.grad_bytes, o.n_devices, t.bus_bytes_per_s);
    const double embedding_grad = double(s.vocab_size) * double(s.d_model) * grad_b;
    const double last_bucket = std::min(std::max(o.bucket_bytes, embedding_grad), t.grad_bytes);
    t.last_bucket_s = ring_allreduce_seconds(last_bucket, o.n_devices, t.bus_bytes_per_s);
    t.allreduce_exposed_s = std::max(t.allreduce_s - t.backward_overlap_s, t.last_bucket_s);
  }

  // Optimizer: clip + AdamW, one memory-bound pass over the unique params.
  t.optimizer_s = unique * (4.0 * grad_b + 2.0 * weight_b + 16.0) / acc.hbm_bytes_per_s;

  t.step_s = t.compute_s + t.allreduce_exposed_s + t.optimizer_s;
  const double step_tokens = double(o.global_batch) * double(o.seq);
  t.tokens_per_s_per_device = step_tokens / double(o.n_devices) / t.step_s;
  t.mfu_implied = t.tokens_per_s_per_device * flops_per_token / acc.peak_bf16_flops;
  t.steps = tokens / step_tokens;
  t.wall_s = t.steps * t.step_s;
  t.device_hours = t.wall_s * double(o.n_devices) / 3600.0;
  return t;
}

double mfu_from_throughput(const ModelSpec& s, int64_t seq, double tokens_per_s, double peak_flops) {
  return tokens_per_s * train_flops_per_token(s, seq) / peak_flops;
}

}  // namespace sharelab::arch
