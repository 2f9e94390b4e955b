// Analytic accounting from a ModelSpec alone (no tensors): unique parameters by kind, effective
// parameters per forward (reuse counted), forward FLOPs per token and weight bytes per dtype.
// The model tests hold these formulas against LibTorch's actual parameter list.
#pragma once

#include <cstdint>
#include <string>

#include "arch/model_spec.h"

namespace sharelab::arch {

struct ParamCounts {
  int64_t embedding = 0;  // input embedding, plus the output head when untied
  int64_t attention = 0;
  int64_t ffn = 0;
  int64_t norm = 0;
  int64_t total() const { return embedding + attention + ffn + norm; }
  int64_t non_embedding() const { return attention + ffn + norm; }
};

// Per-module sizes.
int64_t attention_params(const ModelSpec& s);  // q, k, v, o projections of one attention module
int64_t ffn_params(const ModelSpec& s);        // gate, up, down of one SwiGLU
int64_t head_params(const ModelSpec& s);       // output head (0 when tied)

// Parameters stored once (what the optimizer steps and a native checkpoint holds).
ParamCounts unique_params(const ModelSpec& s);
// Parameters touched per forward, each shared module counted once per use. Equals what an HF
// export materialises (a copy of each shared module under every layer that uses it).
ParamCounts effective_params(const ModelSpec& s);

// Forward FLOPs per token for a sequence of length seq: 2 x (matmul weights used per token,
// head included, embedding lookup excluded) + attention scores and weighted sum, 4 x n_layers x
// seq x (n_heads x head_dim), the PaLM/Chinchilla convention (no causal halving).
double forward_flops_per_token(const ModelSpec& s, int64_t seq);
// Matmul weights used per token (effective params minus embedding lookup and norms).
int64_t matmul_params_per_token(const ModelSpec& s);

// Bytes for the unique weights in a dtype: fp32, bf16, fp16, int8, q4 (4.5 bits, GGUF Q4_0).
double weight_bytes(const ModelSpec& s, const std::string& dtype);

// "124.6M" / "1.01B": the rounding of the MobileLLM card (1 decimal in M, 2 in B).
std::string format_count_card(int64_t n);

}  // namespace sharelab::arch
