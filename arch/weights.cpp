// Native and HF views of the model's weights, and their HDF5 files.
#include "arch/weights.h"

#include "common/errors.h"
#include "arch/model_spec.h"

namespace sharelab::arch {

namespace {

constexpr const char* kNativeFormat = "sharelab-weights-v1";

std::string layer(int64_t i) { return "model.layers." + std::to_string(i) + "."; }

// (HF name, native name) for every tensor of the HF view, in layer order.
std::vector<std::pair<std::string, std::string>> hf_names(const CausalLMImpl& m) {
  const auto& l = m.layout();
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("model.embed_tokens.weight", "tok_emb.weight");
  for (int64_t i = 0; i < m.spec().n_layers; ++i) {
    const std::string a = "attn." + std::to_string(l.attn_of[i]) + ".";
    const std::string f = "ffn." + std::to_string(l.ffn_of[i]) + ".";
    out.emplace_back(layer(i) + "self_attn.q_proj.weight", a + "wq.weight");
    out.emplace_back(layer(i) + "self_attn.k_proj.weight", a + "wk.weight");
    out.emplace_back(layer(i) + "self_attn.v_proj.weight", a + "wv.weight");
    out.emplace_back(layer(i) + "self_attn.o_proj.weight", a + "wo.weight");
    out.emplace_back(layer(i) + "mlp.gate_proj.weight", f + "w1.weight");
    out.emplace_back(layer(i) + "mlp.up_proj.weight", f + "w3.weight");
    out.emplace_back(layer(i) + "mlp.down_proj.weight", f + "w2.weight");
    out.emplace_back(layer(i) + "input_layernorm.weight", "attn_norm." + std::to_string(l.attn_norm_of[i]) + ".weight");
    out.emplace_back(layer(i) + "post_attention_layernorm.weight",
                     "ffn_norm." + std::to_string(l.ffn_norm_of[i]) + ".weight");
  }
  out.emplace_back("model.norm.weight", "norm.weight");
  if (!m.spec().tie_embeddings) out.emplace_back("lm_head.weight", "lm_head.weight");
  return out;
}

}  // namespace

std::map<std::string, torch::Tensor> native_state(CausalLM& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model->named_parameters()) out[p.key()] = p.value();
  return out;
}

std::map<std::string, torch::Tensor> hf_state(CausalLM& model) {
  auto native = native_state(model);
  std::map<std::string, torch::Tensor> out;
  for (const auto& [hf, nat] : hf_names(*model)) out[hf] = native.at(nat);
  return out;
}

void load_native_state(CausalLM& model, const std::map<std::string, torch::Tensor>& state, const std::string& origin) {
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  for (const auto& p : params) {
    auto it = state.find(p.key());
    if (it == state.end()) throw ConfigError(origin + ": missing tensor '" + p.key() + "'");
    if (it->second.sizes() != p.value().sizes())
      throw ConfigError(origin + ": tensor '" + p.key() + "' has shape " + c10::str(it->second.sizes()) +
                        ", model expects " + c10::str(p.value().sizes()));
    p.value().copy_(it->second);
  }
  for (const auto& [name, t] : state)
    if (!params.contains(name))
      throw ConfigError(origin + ": unexpected tensor '" + name + "' (not a parameter of " + model->spec().name + ")");
}

void load_hf_state(CausalLM& model, const std::map<std::string, torch::Tensor>& state, const std::string& origin) {
  std::map<std::string, torch::Tensor> native;
  std::map<std::string, std::string> first_hf;  // native name -> HF name it was taken from
  for (const auto& [hf, nat] : hf_names(*model)) {
    auto it = state.find(hf);
    if (it == state.end()) throw ConfigError(origin + ": missing tensor '" + hf + "'");
    auto seen = native.find(nat);
    if (seen == native.end()) {
      native[nat] = it->second;
      first_hf[nat] = hf;
    } else if (!seen->second.sizes().equals(it->second.sizes()) || !torch::equal(seen->second, it->second)) {
      throw ConfigError(origin + ": '" + hf + "' differs from '" + first_hf[nat] + "' but scheme '" +
                        model->spec().scheme + "' shares them; load it with a scheme that matches the checkpoint");
    }
  }
  load_native_state(model, native, origin);
}

void save_weights(CausalLM& model, const std::string& path) {
  TensorFile f;
  f.attrs["format"] = kNativeFormat;
  f.attrs["spec"] = spec_to_text(model->spec());
  f.tensors = native_state(model);
  write_tensor_file(path, f);
}

void load_weights(CausalLM& model, const std::string& path) {
  // The checks of read_tensor_file + load_native_state, all before any parameter changes; then the
  // data straight into the parameters (TensorFileReader: no staging tensor where dtypes match).
  TensorFileReader f(path);
  auto fmt = f.attrs().find("format");
  if (fmt == f.attrs().end() || fmt->second != kNativeFormat)
    throw ConfigError(path + ": attribute 'format' is '" + (fmt == f.attrs().end() ? "" : fmt->second) +
                      "', expected '" + kNativeFormat + "'");
  auto params = model->named_parameters();
  std::vector<std::pair<std::string, torch::Tensor>> jobs;
  for (const auto& p : params) {
    auto it = f.entries().find(p.key());
    if (it == f.entries().end()) throw ConfigError(path + ": missing tensor '" + p.key() + "'");
    if (c10::IntArrayRef(it->second.shape) != p.value().sizes())
      throw ConfigError(path + ": tensor '" + p.key() + "' has shape " + c10::str(c10::IntArrayRef(it->second.shape)) +
                        ", model expects " + c10::str(p.value().sizes()));
    jobs.emplace_back(p.key(), p.value());
  }
  for (const auto& [name, e] : f.entries())
    if (!params.contains(name))
      throw ConfigError(path + ": unexpected tensor '" + name + "' (not a parameter of " + model->spec().name + ")");
  f.read_into(jobs);
}

void export_hf_h5(CausalLM& model, const std::string& path) {
  TensorFile f;
  f.attrs["format"] = "hf-llama";
  f.attrs["spec"] = spec_to_text(model->spec());
  f.tensors = hf_state(model);
  write_tensor_file(path, f);
}

}  // namespace sharelab::arch
