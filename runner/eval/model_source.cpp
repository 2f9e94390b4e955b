// Resolving RUN_DIR_OR_CHECKPOINT to a model (see model_source.h).
#include "runner/eval/model_source.h"

#include <filesystem>

#include "common/errors.h"
#include "arch/h5_tensors.h"
#include "arch/weights.h"
#include "runner/eval/read_util.h"
#include "runner/eval/text_util.h"
#include "runner/interop/hf_dir.h"

namespace sharelab::eval {

namespace fs = std::filesystem;

arch::ModelSpec spec_from_text(const std::string& text, const std::string& origin) {
  arch::ModelSpec s;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    const size_t eq = line.find(" = ");
    if (py_strip(line).empty()) continue;
    if (eq == std::string::npos) throw ConfigError(origin + ": spec line '" + line + "' is not 'key = value'");
    arch::set_field(s, line.substr(0, eq), line.substr(eq + 3));
  }
  s.validate();
  return s;
}

namespace {

// Model tensors of a native file (a training checkpoint also holds optimizer/RNG/loop state).
arch::CausalLM load_native(const std::string& path, std::string* config_json) {
  arch::TensorFile f = arch::read_tensor_file(path);
  auto spec_it = f.attrs.find("spec");
  if (spec_it == f.attrs.end())
    throw ConfigError(path + ": no 'spec' attribute (not a sharelab checkpoint or weights file)");
  arch::CausalLM model(spec_from_text(spec_it->second, path));
  std::map<std::string, torch::Tensor> weights;
  for (const auto& [name, t] : arch::native_state(model)) {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) throw ConfigError(path + ": missing tensor '" + name + "'");
    weights[name] = it->second;
  }
  arch::load_native_state(model, weights, path);
  if (config_json) {
    auto c = f.attrs.find("config_json");
    *config_json = c == f.attrs.end() ? "" : c->second;
  }
  return model;
}

// data.tokenizer, else <data.dir>/tokenizer.model (what `runner data prepare` writes).
void defaults_from_config(const std::string& config_json, const std::string& origin, ModelSource& src) {
  if (config_json.empty()) return;
  const OrderedJson c = parse_json(config_json, origin, "attribute config_json");
  if (!c.contains("data") || !c["data"].is_object()) return;
  const auto& d = c["data"];
  if (d.contains("dir") && d["dir"].is_string()) src.data_dir = d["dir"].get<std::string>();
  if (d.contains("tokenizer") && d["tokenizer"].is_string() && !d["tokenizer"].get<std::string>().empty())
    src.tokenizer = d["tokenizer"].get<std::string>();
  else if (!src.data_dir.empty() && fs::exists(fs::path(src.data_dir) / "tokenizer.model"))
    src.tokenizer = (fs::path(src.data_dir) / "tokenizer.model").string();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

ModelSource load_model_source(const std::string& path) {
  ModelSource src;
  const fs::path p(path);
  if (!fs::exists(p)) throw ConfigError(path + ": no such run directory, checkpoint file or HF model directory");
  if (interop::is_hf_dir(path)) {
    src.model = interop::load_hf_dir(path);
    src.kind = "hf";
    src.checkpoint = path;
    src.run_id = "hf:" + fs::weakly_canonical(p).filename().string();
    if (fs::exists(p / "tokenizer.model")) src.tokenizer = (p / "tokenizer.model").string();
    return src;
  }
  std::string config_json;
  if (fs::is_directory(p)) {
    const fs::path latest = p / "latest";
    if (!fs::exists(latest))
      throw ConfigError(path + ": a directory without a 'latest' checkpoint pointer (run dir) or config.json + "
                               "model.safetensors (HF checkpoint)");
    const std::string name = trim(read_text_file(latest.string()));
    src.checkpoint = (p / name).string();
    if (name.empty() || !fs::exists(src.checkpoint))
      throw ConfigError(latest.string() + ": names checkpoint '" + name + "', which does not exist");
    src.model = load_native(src.checkpoint, &config_json);
    src.kind = "run";
    src.run_id = fs::weakly_canonical(p).filename().string();
  } else {
    src.model = load_native(path, &config_json);
    src.kind = "native";
    src.checkpoint = path;
    // A checkpoint inside a run directory belongs to that run.
    const fs::path parent = fs::weakly_canonical(p).parent_path();
    src.run_id = fs::exists(parent / "latest") ? parent.filename().string() : "file:" + p.stem().string();
  }
  defaults_from_config(config_json, src.checkpoint, src);
  return src;
}

}  // namespace sharelab::eval
