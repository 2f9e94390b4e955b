// What `runner eval` can evaluate, resolved to a loaded arch::CausalLM: a run directory
// (results/runs/<run_id>/, its `latest` checkpoint), one native .h5 file (training checkpoint or
// save_weights), or an HF LLaMA directory (config.json + safetensors). Also where its tokenizer
// and held-out data are, when the run's config says.
#pragma once

#include <string>

#include "arch/model.h"

namespace sharelab::eval {

struct ModelSource {
  arch::CausalLM model{nullptr};
  std::string run_id;      // run directory name, or "hf:<dir>" / "file:<name>"
  std::string kind;        // "run", "native", "hf"
  std::string checkpoint;  // the file or directory loaded
  std::string tokenizer;   // default tokenizer path ("" when unknown)
  std::string data_dir;    // the run's prepared data (held-out split), "" when unknown
};

ModelSource load_model_source(const std::string& path);

// The ModelSpec text stored in checkpoints ("key = value" lines, arch::spec_to_text) back to a spec.
arch::ModelSpec spec_from_text(const std::string& text, const std::string& origin);

}  // namespace sharelab::eval
