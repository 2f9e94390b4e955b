// `runner export` (weights to HDF5) and `runner logits` (a forward pass to .npy): the bridge to
// h5py / plain-PyTorch users and to the reference-logits test.
#include <torch/torch.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "arch/registry.h"
#include "arch/weights.h"
#include "common/cli.h"
#include "kernels/torch_compat.h"
#include "runner/commands.h"

namespace sharelab::runner {

namespace {

using namespace sharelab::arch;

std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      ids.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw ConfigError("--tokens: '" + item + "' is not an integer token id");
    }
  }
  if (ids.empty()) throw ConfigError("--tokens: expected comma-separated token ids");
  return ids;
}

// Minimal .npy (version 1.0) writer for a float32 C-order array.
void write_npy(const std::string& path, const torch::Tensor& t) {
  auto c = t.to(torch::kFloat32).contiguous();
  std::string shape;
  for (auto d : c.sizes()) shape += std::to_string(d) + ", ";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  uint16_t len = uint16_t(header.size());
  bytes += char(len & 0xff);
  bytes += char(len >> 8);
  bytes += header;
  bytes.append(static_cast<const char*>(c.data_ptr()), size_t(c.numel()) * sizeof(float));
  write_file_atomic(path, bytes);
}

}  // namespace

int cmd_export(const Args& args) {
  po::options_description opts("runner export");
  std::string name, out, hf_out;
  std::vector<std::string> sets;
  uint64_t seed = 0;
  opts.add_options()("preset", po::value(&name)->required(), "preset name")(
      "set", po::value(&sets)->multitoken()->composing(), "override a field: key=value")(
      "seed", po::value(&seed)->default_value(0), "initialisation seed")(
      "out", po::value(&out), "native weights file (HDF5, unique tensors)")(
      "hf-out", po::value(&hf_out), "HF-named HDF5 file (shared modules materialised per layer)");
  po::positional_options_description pos;
  pos.add("preset", 1);
  po::variables_map vm;
  if (!parse_command("runner export PRESET [--set k=v] [--seed N] [--out FILE] [--hf-out FILE]", opts, pos, args, vm))
    return 0;
  if (out.empty() && hf_out.empty()) throw ConfigError("runner export: give --out and/or --hf-out");
  CausalLM model(resolve_preset(name, sets));
  model->reset_parameters(seed);
  if (!out.empty()) save_weights(model, out);
  if (!hf_out.empty()) export_hf_h5(model, hf_out);
  fmt::print("exported {} ({} tensors unique, {} HF-named)\n", name, native_state(model).size(), hf_state(model).size());
  return 0;
}

int cmd_logits(const Args& args) {
  po::options_description opts("runner logits");
  std::string name, weights, tokens, out;
  std::vector<std::string> sets;
  bool bf16 = false;
  opts.add_options()("preset", po::value(&name)->required(), "preset name")(
      "set", po::value(&sets)->multitoken()->composing(), "override a field: key=value")(
      "weights", po::value(&weights)->required(), "native weights file written by `runner export --out`")(
      "tokens", po::value(&tokens)->required(), "comma-separated token ids")(
      "out", po::value(&out)->required(), "output .npy file, float32 [T, vocab]")(
      "bf16", po::bool_switch(&bf16), "run under bf16 autocast");
  po::positional_options_description pos;
  pos.add("preset", 1);
  po::variables_map vm;
  if (!parse_command("runner logits PRESET --weights FILE --tokens 1,2,3 --out FILE.npy", opts, pos, args, vm)) return 0;
  CausalLM model(resolve_preset(name, sets));
  load_weights(model, weights);
  model->eval();
  auto ids = parse_ids(tokens);
  for (auto id : ids)
    if (id < 0 || id >= model->spec().vocab_size)
      throw ConfigError(fmt::format("--tokens: id {} is outside the vocabulary [0, {})", id, model->spec().vocab_size));
  torch::NoGradGuard no_grad;
  auto x = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  torch::Tensor logits;
  {
    kernels::compat::AutocastGuard autocast(bf16, c10::DeviceType::CPU);
    logits = model->forward(x)[0];
  }
  write_npy(out, logits);
  return 0;
}

}  // namespace sharelab::runner
