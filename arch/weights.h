// Model weights in and out: the native state (one tensor per unique parameter, internal names) and
// the HF LlamaForCausalLM view, where every shared module is materialised under each layer that
// uses it (HF's save_pretrained would drop the duplicates and stock loaders would see random FFNs).
#pragma once

#include <map>
#include <string>

#include "arch/h5_tensors.h"
#include "arch/model.h"

namespace sharelab::arch {

// Internal names, each unique tensor once: "attn.3.wq.weight", "ffn.0.w1.weight", ...
std::map<std::string, torch::Tensor> native_state(CausalLM& model);
// HF names: "model.layers.{i}.self_attn.q_proj.weight", ... ("lm_head.weight" only when untied).
std::map<std::string, torch::Tensor> hf_state(CausalLM& model);

// Copy tensors into the model. Every parameter must be present with its exact shape; extra
// entries are an error. `origin` names the file in messages.
void load_native_state(CausalLM& model, const std::map<std::string, torch::Tensor>& state, const std::string& origin);
// Load an HF-named state into a (possibly shared) model. Each shared owner takes the copy of the
// first layer that uses it; the other layers' copies must be identical or the load fails.
void load_hf_state(CausalLM& model, const std::map<std::string, torch::Tensor>& state, const std::string& origin);

// Native checkpoint of the weights alone: format tag, spec text, unique tensors.
void save_weights(CausalLM& model, const std::string& path);
// load_weights checks names, shapes and dtypes before any parameter changes; a checksum mismatch is
// found while reading, so after that error the model holds the bad bytes: discard it.
void load_weights(CausalLM& model, const std::string& path);
// HF-named HDF5 export (for ../shared/bench/ref_llama.py and h5py users).
void export_hf_h5(CausalLM& model, const std::string& path);

}  // namespace sharelab::arch
