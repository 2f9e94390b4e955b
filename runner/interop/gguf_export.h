// The model as a GGUF v3 file that stock llama.cpp runs as a LLaMA model: `llama.*` hyper-
// parameters, the SentencePiece vocabulary as `tokenizer.ggml.*`, and tensors named and laid out
// as llama.cpp's convert_hf_to_gguf.py writes a LlamaForCausalLM (../shared/notes/ecosystem.md
// §2.4-2.6). Shared modules are materialised under every layer that uses them (block repeats
// unrolled), since the llama architecture has no sharing; tied embeddings omit `output.weight`.
#pragma once

#include <string>

#include "arch/model.h"
#include "runner/data/spm_vocab.h"

namespace sharelab::interop {

struct GgufOptions {
  // f32, f16 or bf16 (aliases as parse_disk_dtype). 1-D norm gains are stored F32, as the converter
  // does, holding their values rounded to this dtype (= convert_hf_to_gguf.py of our HF export).
  std::string dtype = "f32";
  std::string name;           // general.name; empty: the spec's name, else "sharelab-<scheme>"
  bool add_bos = true;        // tokenizer.ggml.add_bos_token (LLaMA's SentencePiece convention)
  bool add_eos = false;       // tokenizer.ggml.add_eos_token
};

// Writes `path` atomically (temporary file beside it, renamed when complete; nothing left on an
// error), streaming one tensor at a time. ConfigError when the dtype is unknown ("--dtype") or
// the model's vocab_size differs from the tokenizer's piece count.
void export_gguf(arch::CausalLM& model, const data::SpmVocab& vocab, const std::string& path,
                 const GgufOptions& options);
void export_gguf(arch::CausalLM& model, const data::SpmVocab& vocab, const std::string& path,
                 const std::string& dtype);

// llama.cpp's LLAMA_ROPE_TYPE_NORM pairs consecutive dims (2j, 2j+1); our Q/K rows are in HF's
// rotate_half order (j, j + head_dim/2). convert_hf_to_gguf.py's LlamaModel.permute maps the
// second to the first per head: w.reshape(heads, 2, rows/heads/2, ...).swapaxes(1, 2). Exposed
// with its inverse for the tests.
torch::Tensor rope_permute(const torch::Tensor& w, int64_t heads);
torch::Tensor rope_unpermute(const torch::Tensor& w, int64_t heads);

}  // namespace sharelab::interop
