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
  const char* name;        // "a100-80gb"
  const char* label;       // "NVIDIA A100-SXM4-80GB"
  double peak_bf16_flops;  // dense bf16 tensor-core peak, FLOP/s
  double memory_bytes;
};
const std::vector<Accelerator>& accelerators();                   // a100-80gb (312 TFLOP/s), h100-sxm (989 TFLOP/s)
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

// The utilisation implied by a measured training throughput (tokens/s on one device of peak
// `peak_flops`): tokens_per_s x train_flops_per_token / peak_flops.
double mfu_from_throughput(const ModelSpec& s, int64_t seq, double tokens_per_s, double peak_flops);

}  // namespace sharelab::arch
