// A Hugging Face model directory, both ways. Export: config.json, generation_config.json,
// model.safetensors (or shards + model.safetensors.index.json) and the tokenizer files, loadable by
// transformers.AutoModelForCausalLM / AutoTokenizer with no custom code. Every shared module is
// written under each layer that uses it (stock loaders see a dense LLaMA); config.json's "sharelab"
// key lets load_hf_dir restore the unique parameters exactly. Import: directories we wrote and
// ones transformers wrote (dense LLaMA).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "arch/model.h"
#include "runner/interop/safetensors.h"

namespace sharelab::interop {

struct HfExportOptions {
  DiskDtype dtype = DiskDtype::kF32;
  int64_t max_shard_bytes = 5'000'000'000;  // transformers' classic default shard size (5 GB)
  std::string tokenizer;                     // SentencePiece .model; "" writes no tokenizer files
};

// Written into a temporary sibling folder and renamed into place, so a failure leaves no partial
// directory. An existing `dir` is replaced only when it is an HF model directory (or empty).
void export_hf_dir(arch::CausalLM& model, const std::string& dir, const HfExportOptions& opt);

// A directory with config.json and no `latest` pointer (a run directory has both): load_hf_dir
// then names whatever else is missing (model.safetensors, a shard).
bool is_hf_dir(const std::string& dir);

// The model of config.json with every tensor of every shard. ConfigError naming the file and the
// tensor or field when the config and the tensors disagree, a shard is missing, or the
// architecture is not a LLaMA.
arch::CausalLM load_hf_dir(const std::string& dir);

}  // namespace sharelab::interop
