// config.json / generation_config.json of a Hugging Face LlamaForCausalLM, both ways. Written so
// stock transformers loads it with no custom code; our own "sharelab" key records the sharing
// layout, so that our importer restores the unique parameters exactly (a stock loader ignores it).
// No LibTorch here.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "arch/model_spec.h"

namespace sharelab::interop {

struct SpecialTokens {
  int64_t bos = 1, eos = 2, unk = 0, pad = -1;  // -1: none
};

// `torch_dtype` names the dtype of the written tensors ("float32", "bfloat16", "float16").
nlohmann::ordered_json hf_config_json(const arch::ModelSpec& spec, const SpecialTokens& tokens,
                                      const std::string& torch_dtype);
nlohmann::ordered_json hf_generation_config_json(const SpecialTokens& tokens);

// A JSON file of an HF directory; ConfigError "PATH: not found (WHAT)" or "PATH: not valid JSON (...)".
nlohmann::json read_json_file(const std::string& path, const std::string& what);

// The ModelSpec of an HF LLaMA config.json, written by us or by transformers (old `rope_theta` or
// v5 `rope_parameters`, `torch_dtype` or `dtype`). With our "sharelab" key the sharing scheme is
// restored and its recorded layout checked; without it the model is dense. Anything the model
// cannot run (another architecture, rope scaling, biases, another activation) is a ConfigError
// naming the file and the field.
arch::ModelSpec spec_from_hf_config(const std::string& config_json_path);

}  // namespace sharelab::interop
