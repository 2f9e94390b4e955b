// Training cost model built on the accounting module (no tensors, no LibTorch): FLOPs per token,
// memory for weights, gradients, AdamW state and activations at a micro-batch, and a projection of
// wall time and device-hours for a token budget on a named accelerator at a stated utilisation.
// Everything here is an estimate: callers print its results labelled "projected".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/model_spec.h"

namespace sharelab::arch {

// --- compute -----------------------------------------------------------------------------------

// Training FLOPs per token = 3 x forward_flops_per_token (backward = 2 x forward):
//   6 x matmul weights used per token (effective params: shared modules counted per use, head
//   included, embedding lookup and norms excluded) + 12 x n_layers x seq x (n_heads x head_dim).
double train_flops_per_token(const ModelSpec& s, int64_t seq);

// --- memory ------------------------------------------------------------------------------------

struct MemoryOptions {
  int64_t micro_batch = 1;
  int64_t seq = 2048;
  // Storage dtype of the parameters being trained: "fp32" (mixed precision with fp32 master
  // weights, what bf16 autocast does) or "bf16" (pure bf16 weights and gradients).
  std::string weight_dtype = "fp32";
  bool flash_attention = false;  // true: the (T x T) attention probabilities are not stored
};

struct TrainMemory {
  double weights = 0;      // unique params x bytes(weight_dtype)
  double gradients = 0;    // one gradient per unique param, same dtype as the weights
  double optimizer = 0;    // AdamW exp_avg + exp_avg_sq, fp32: 8 bytes per unique param
  double activations = 0;  // saved for backward at micro_batch x seq (activation_bytes)
  double total() const { return weights + gradients + optimizer + activations; }
};

// Activations saved for backward by ONE executed layer, bf16, no recomputation, no dropout. Our
// estimate for a LLaMA layer, derived the way Korthikanti et al. 2022 (Sec. 4.1) derive their
// 34 s b h + 5 a s^2 b for GPT: with s = seq, b = micro_batch, h = d_model, f = ffn_dim, a = heads,
//   attention: 2sbh (RMSNorm in) + 2sbh (q/k/v in) + 4sbh (q, k) + 2sbh (v) + 2sbh (o-proj in)
//              + 2 a s^2 b (softmax probabilities; 0 with flash attention)
//   SwiGLU:    2sbh (RMSNorm in) + 2sbh (w1/w3 in) + 2sbf (w1 out) + 2sbf (w3 out)
//              + 2sbf (silu out) + 2sbf (w2 in)
//   = s b (16 h + 8 f) + 2 a s^2 b bytes.
double activation_bytes_per_layer(const ModelSpec& s, int64_t micro_batch, int64_t seq, bool flash_attention);
// All executed layers (a shared module is saved once per use) + the head: bf16 logits and their
// fp32 copy for the loss, 6 s b V bytes.
double activation_bytes(const ModelSpec& s, int64_t micro_batch, int64_t seq, bool flash_attention);

TrainMemory train_memory(const ModelSpec& s, const MemoryOptions& o);

// --- accelerators and projections -------------------------------------------------------------

struct Accelerator {
  const char* name;           // "a100-80gb"
  const char* label;          // "NVIDIA A100-SXM4-80GB"
  double peak_bf16_flops;     // dense bf16 tensor-core peak, FLOP/s
  double memory_bytes;        // device memory
  double hbm_bytes_per_s;     // device memory bandwidth (datasheet peak)
  double nvlink_bytes_per_s;  // NVLink bandwidth per GPU, ONE direction (half the datasheet's bidirectional figure)
};
// From NVIDIA's datasheets: a100-80gb (312 TFLOP/s, 2,039 GB/s HBM2e, NVLink 600 GB/s bidirectional),
// h100-sxm (989 TFLOP/s, 3.35 TB/s HBM3, NVLink 900 GB/s bidirectional).
const std::vector<Accelerator>& accelerators();
const Accelerator& accelerator_by_name(const std::string& name);  // ConfigError listing the known

// The utilisation assumed when nothing better is known: model FLOPs utilisation 0.40, a typical
// figure for well-tuned LLaMA pre-training on A100 with flash attention.
constexpr double kDefaultMfu = 0.40;

struct Projection {
  std::string accelerator;
  int n_devices = 1;
  double tokens = 0;
  double mfu = 0;
  double flops = 0;         // tokens x train_flops_per_token
  double wall_s = 0;        // on n_devices, perfect data-parallel scaling
  double device_hours = 0;  // n_devices x wall hours (= GPU-hours)
};

// MFU must lie in (0, 1]; tokens > 0; n_devices >= 1 (ConfigError otherwise).
Projection project_training(const ModelSpec& s, int64_t seq, double tokens, const Accelerator& acc, double mfu,
                            int n_devices = 1);

// --- data-parallel step time: what scales with UNIQUE parameters --------------------------------
//
// One optimizer step of plain data parallelism (DDP: every device holds the whole model, the global
// batch is split evenly, gradients are all-reduced once per step, under no_sync for all but the last
// micro-step). Compute scales with the layers EXECUTED (the same for a shared and an unshared model of
// one depth); the three terms below scale with the UNIQUE parameters, which is where sharing can
// save time:
//
//   compute     rows_per_device x seq x train_flops_per_token / (peak x mfu)
//   all-reduce  ring: 2 (n-1)/n x gradient bytes / bus bandwidth (bandwidth term only; the per-hop
//               latency, ~2(n-1) hops per bucket, is not modelled). Gradient bytes = unique params x
//               bytes(grad_dtype). Bus bandwidth: NVLink (one direction) within one node; once the n
//               devices span nodes, min(NVLink, the node's aggregate inter-node bandwidth). The node's
//               aggregate, not a 1/devices_per_node share of it: NCCL runs several rings (channels),
//               each crossing every node boundary once, spread over all of the node's NICs (the same as
//               reduce-scatter in the node + per-GPU rings over S/g bytes at B/g each). NVIDIA measures
//               192 GB/s all-reduce bus bandwidth between DGX A100s with 8 x 200 Gb/s HDR = 200 GB/s
//               (github.com/NVIDIA/nccl/issues/812); we use the nominal link rate, no efficiency factor.
//   overlap     DDP launches a bucket's all-reduce as soon as its gradients exist, so the all-reduce
//               overlaps the backward of the last micro-step (backward = 2/3 of a micro-step's compute).
//               Simple model: exposed = max(all-reduce - that backward, the last bucket's all-reduce).
//               The last bucket is never hidden: the input embedding's gradient is the last one produced
//               and DDP does not split a tensor across buckets, so the last bucket is
//               max(bucket_bytes = DDP's 25 MB, vocab x d_model x bytes(grad_dtype)).
//   optimizer   gradient-norm clipping + AdamW (PyTorch's foreach pass over unique params), memory
//               bound: per unique param it reads the gradient 3 times and writes it once (norm, scale,
//               update), reads and writes the weight and both fp32 moments:
//               4 x bytes(grad) + 2 x bytes(weight) + 16 bytes (40 at fp32) / HBM bandwidth (peak).
//   memory      the largest micro batch (rows) that fits: (device memory - weights - gradients - AdamW
//               state of the unique params) / activation_bytes per row; accumulation steps =
//               ceil(rows_per_device / that). Not modelled: CUDA context, allocator fragmentation, DDP's
//               bucket copy of the gradients, temporary buffers.
//
// step = compute + exposed all-reduce + optimizer.
struct DataParallelOptions {
  int64_t seq = 2048;
  int64_t global_batch = 0;  // rows (sequences of `seq` tokens) per optimizer step, all devices
  int n_devices = 1;         // global_batch must be a multiple
  int devices_per_node = 8;
  double internode_bytes_per_s = 0;   // per NODE, all its NICs together; needed when n spans nodes
  double mfu = kDefaultMfu;           // utilisation of the compute term
  std::string grad_dtype = "fp32";    // what is all-reduced (our trainer reduces fp32 gradients)
  std::string weight_dtype = "fp32";  // fp32 master weights (bf16 autocast) or pure bf16
  bool flash_attention = true;        // for the activation memory per row
  double bucket_bytes = 25e6;         // DDP bucket_cap_mb default
};

struct StepTime {
  int64_t rows_per_device = 0;     // global_batch / n_devices
  int64_t max_micro_batch = 0;     // the largest micro batch that fits in device memory
  int64_t accumulation_steps = 0;  // ceil(rows_per_device / max_micro_batch)
  int64_t micro_batch = 0;         // rows per micro-step: ceil(rows_per_device / accumulation_steps)
  double state_bytes = 0;          // weights + gradients + AdamW state of the unique params
  double activation_bytes_per_row = 0;
  double grad_bytes = 0;          // unique params x bytes(grad_dtype)
  double bus_bytes_per_s = 0;     // bottleneck bandwidth of the ring (0 when n = 1)
  double compute_s = 0;           // all micro-steps of one step
  double backward_overlap_s = 0;  // the last micro-step's backward, behind which the all-reduce runs
  double allreduce_s = 0;         // the whole ring all-reduce
  double last_bucket_s = 0;       // the part that can never overlap
  double allreduce_exposed_s = 0;
  double optimizer_s = 0;
  double step_s = 0;
  double tokens_per_s_per_device = 0;
  double mfu_implied = 0;  // tokens_per_s_per_device x train_flops_per_token / peak
  // for the token budget
  double tokens = 0;
  double steps = 0;  // tokens / (global_batch x seq), fractional
  double wall_s = 0;
  double device_hours = 0;
};

// 2 (n-1)/n x bytes / bus bandwidth; 0 for n = 1.
double ring_allreduce_seconds(double bytes, int n_devices, double bus_bytes_per_s);

// ConfigError for: tokens <= 0, global_batch not a positive multiple of n_devices, mfu outside (0, 1],
// devices_per_node < 1, n spanning nodes without an inter-node bandwidth, an unknown dtype, or a model
// whose state plus one row of activations does not fit in device memory.
StepTime project_data_parallel(const ModelSpec& s, double tokens, const Accelerator& acc, const DataParallelOptions& o);

// The utilisation implied by a measured training throughput (tokens/s on one device of peak
// `peak_flops`): tokens_per_s x train_flops_per_token / peak_flops.
double mfu_from_throughput(const ModelSpec& s, int64_t seq, double tokens_per_s, double peak_flops);

}  // namespace sharelab::arch
