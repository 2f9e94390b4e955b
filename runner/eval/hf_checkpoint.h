// HF-format LLaMA checkpoints (config.json + model.safetensors, or a sharded
// model.safetensors.index.json): a hand-rolled safetensors reader (u64 LE header length, JSON
// header, raw little-endian row-major data; F32/BF16/F16 -> float32) and the ModelSpec implied
// by config.json, so released MobiLlama/MobileLLM weights (or any LLaMA) load into arch::CausalLM.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "arch/model.h"
#include "arch/model_spec.h"

namespace sharelab::eval {

// Every tensor of one .safetensors file, as float32 CPU tensors. ConfigError naming the file and
// tensor on a bad header, an unsupported dtype or data outside the file.
std::map<std::string, torch::Tensor> read_safetensors(const std::string& path);

// Writes float32 tensors as a safetensors file (metadata {"format": "pt"}): tests and exports.
void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors);

// The ModelSpec of an HF LlamaConfig (hidden_size, num_attention_heads, num_key_value_heads,
// intermediate_size, num_hidden_layers, vocab_size, rms_norm_eps, rope_theta,
// tie_word_embeddings, max_position_embeddings). Dense scheme: shared weights were materialised
// per layer by the export.
arch::ModelSpec spec_from_hf_config(const std::string& config_json_path);

// True when `dir` looks like an HF checkpoint (config.json + model.safetensors[.index.json]).
bool is_hf_checkpoint_dir(const std::string& dir);

// Builds the model from config.json and loads every tensor (all shards) with arch::load_hf_state.
arch::CausalLM load_hf_checkpoint(const std::string& dir);

}  // namespace sharelab::eval
