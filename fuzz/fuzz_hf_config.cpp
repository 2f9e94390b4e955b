// config.json of a Hugging Face model directory (ours or transformers'), as `runner eval HF_DIR`
// and `--init-from` read it: the ModelSpec, with our "sharelab" sharing key restored and checked.
#include "fuzz/fuzz_target.h"
#include "runner/interop/hf_config.h"

SHARELAB_FUZZ_TARGET(hf_config) {
  using namespace sharelab;
  const std::string file = fuzz::scratch_dir() + "/hf/config.json";
  fuzz::write_file(file, std::string(reinterpret_cast<const char*>(data), size));
  fuzz::expect_config_error(file, [&] { interop::spec_from_hf_config(file).layout(); });
  return 0;
}
