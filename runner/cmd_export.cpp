// `runner export` (weights out: HF directory, GGUF, native HDF5) and `runner logits` (a forward
// pass to .npy): the bridge to transformers, llama.cpp, h5py and the reference-logits tests.
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "arch/registry.h"
#include "arch/weights.h"
#include "common/cli.h"
#include "kernels/torch_compat.h"
#include "runner/commands.h"
#include "runner/data/spm_vocab.h"
#include "runner/eval/model_source.h"
#include "runner/interop/gguf_export.h"
#include "runner/interop/hf_dir.h"

namespace sharelab::runner {

namespace {

using namespace sharelab::arch;
namespace fs = std::filesystem;
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

// The model a command names: a saved one (run directory, checkpoint or weights .h5, HF directory)
// or a preset, with random weights from --seed or the native weights file --weights.
struct NamedModel {
  CausalLM model{nullptr};
  std::string tokenizer;  // the run's or the HF directory's, "" when unknown
};

NamedModel resolve_model(const std::string& arg, const std::vector<std::string>& sets, uint64_t seed,
                         const std::string& weights) {
  NamedModel m;
  if (fs::exists(arg)) {
    if (!sets.empty() || !weights.empty())
      throw ConfigError("'" + arg + "' is a saved model: --set and --weights apply to a preset name only");
    auto src = eval::load_model_source(arg);
    m.model = src.model;
    m.tokenizer = src.tokenizer;
    return m;
  }
  // A path that does not exist, unless it is a preset's name ("mobillama-0.5b" has an "extension").
  const auto& all = arch::presets();
  const bool preset = std::any_of(all.begin(), all.end(), [&](const arch::Preset& p) { return arg == p.name; });
  if (!preset && (arg.find('/') != std::string::npos || fs::path(arg).has_extension()))
    throw ConfigError(arg + ": no such run directory, checkpoint file or HF model directory");
  m.model = CausalLM(resolve_preset(arg, sets));
  if (weights.empty()) m.model->reset_parameters(seed);
  else load_weights(m.model, weights);
  return m;
}

}  // namespace

int cmd_export(const Args& args) {
  po::options_description opts("runner export");
  std::string name, hf, gguf, out, hf_h5, dtype_text, tokenizer;
  std::vector<std::string> sets;
  uint64_t seed = 0;
  double shard_mb = 5000;
  opts.add_options()("model", po::value(&name)->required(),
                     "run directory, checkpoint .h5, HF directory, or a preset name (random weights)")(
      "hf", po::value(&hf), "HF model directory for transformers (safetensors, config.json, tokenizer)")(
      "gguf", po::value(&gguf), "GGUF v3 file for llama.cpp")(
      "dtype", po::value(&dtype_text)->default_value("f32"), "weight dtype of --hf and --gguf: f32, bf16 or f16")(
      "max-shard-mb", po::value(&shard_mb)->default_value(5000), "--hf: split model.safetensors above this size")(
      "tokenizer", po::value(&tokenizer), "SentencePiece .model (default: the run's / the HF directory's)")(
      "out", po::value(&out), "native weights file (HDF5, unique tensors)")(
      "hf-h5", po::value(&hf_h5), "HF-named HDF5 file (for ../shared/bench/ref_llama.py and h5py)")(
      "set", po::value(&sets)->multitoken()->composing(), "preset only: override a field, key=value")(
      "seed", po::value(&seed)->default_value(0), "preset only: initialisation seed");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_command("runner export MODEL [--hf DIR] [--gguf FILE] [--dtype f32|bf16|f16] [--out FILE]", opts, pos,
                     args, vm))
    return 0;
  if (hf.empty() && gguf.empty() && out.empty() && hf_h5.empty())
    throw ConfigError("runner export: give --hf DIR, --gguf FILE, --out FILE and/or --hf-h5 FILE");
  const auto dtype = interop::parse_disk_dtype(dtype_text, "--dtype");
  if (!(shard_mb > 0)) throw ConfigError(fmt::format("--max-shard-mb = {}: expected a positive size", shard_mb));
  if (vm["seed"].defaulted() == false && fs::exists(name))
    throw ConfigError("'" + name + "' is a saved model: --seed applies to a preset name only");
  NamedModel m = resolve_model(name, sets, seed, "");
  if (tokenizer.empty()) tokenizer = m.tokenizer;
  m.model->eval();
  // What each output needs of the tokenizer is checked before the first file is written, so a
  // refused export leaves none of its outputs behind.
  if (!gguf.empty() && tokenizer.empty())
    throw ConfigError("--gguf: llama.cpp needs the vocabulary; give --tokenizer FILE (the model names no tokenizer)");
  if (!tokenizer.empty() && (!gguf.empty() || !hf.empty())) {
    const int64_t pieces = int64_t(data::read_spm_vocab(tokenizer).pieces.size()), vocab = m.model->spec().vocab_size;
    if (!gguf.empty() && pieces != vocab)
      throw ConfigError(fmt::format("{}: model vocab_size {} differs from the tokenizer's {} pieces (llama.cpp needs "
                                    "one row per token)", gguf, vocab, pieces));
    if (!hf.empty() && pieces > vocab)
      throw ConfigError(fmt::format("{}: {} pieces, more than the model's vocab_size {}", tokenizer, pieces, vocab));
  }
  if (!out.empty()) save_weights(m.model, out);
  if (!hf_h5.empty()) export_hf_h5(m.model, hf_h5);
  if (!hf.empty()) {
    interop::HfExportOptions opt;
    opt.dtype = dtype;
    opt.max_shard_bytes = int64_t(shard_mb * 1e6);
    opt.tokenizer = tokenizer;
    interop::export_hf_dir(m.model, hf, opt);
    fmt::print("hf {}: {} tensors, {}{}\n", hf, hf_state(m.model).size(), interop::torch_name(dtype),
               tokenizer.empty() ? " (no tokenizer: give --tokenizer for AutoTokenizer)" : "");
  }
  if (!gguf.empty()) {
    interop::export_gguf(m.model, data::read_spm_vocab(tokenizer), gguf, dtype_text);
    fmt::print("gguf {}: {}\n", gguf, dtype_text);
  }
  fmt::print("exported {} ({} unique tensors, {} HF-named)\n", m.model->spec().name, native_state(m.model).size(),
             hf_state(m.model).size());
  return 0;
}

int cmd_logits(const Args& args) {
  po::options_description opts("runner logits");
  std::string name, weights, tokens, out;
  std::vector<std::string> sets;
  bool bf16 = false;
  opts.add_options()("model", po::value(&name)->required(),
                     "run directory, checkpoint .h5, HF directory, or a preset name with --weights")(
      "set", po::value(&sets)->multitoken()->composing(), "preset only: override a field, key=value")(
      "weights", po::value(&weights), "preset only: native weights file written by `runner export --out`")(
      "tokens", po::value(&tokens)->required(), "comma-separated token ids")(
      "out", po::value(&out)->required(), "output .npy file, float32 [T, vocab]")(
      "bf16", po::bool_switch(&bf16), "run under bf16 autocast");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_command("runner logits MODEL [--weights FILE] --tokens 1,2,3 --out FILE.npy", opts, pos, args, vm)) return 0;
  if (!fs::exists(name) && weights.empty())
    throw ConfigError("runner logits: preset '" + name + "' needs --weights FILE (or name a saved model)");
  CausalLM model = resolve_model(name, sets, 0, weights).model;
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
