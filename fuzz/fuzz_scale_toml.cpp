// A scale file (configs/scales/NAME.toml) read by name beside a sweep, then applied to two presets
// (MHA and GQA) as expansion does, and the result validated.
#include "arch/registry.h"
#include "fuzz/fuzz_target.h"
#include "runner/sweep/expand.h"
#include "runner/sweep/sweep_file.h"

SHARELAB_FUZZ_TARGET(scale_toml) {
  using namespace sharelab;
  const std::string dir = fuzz::scratch_dir() + "/scale";
  const std::string file = dir + "/scales/s.toml";
  fuzz::write_file(file, std::string(reinterpret_cast<const char*>(data), size));
  fuzz::expect_config_error(file, [&] {
    const sweep::Scale s = sweep::load_scale("s", dir + "/sweep.toml", file);
    for (const char* preset : {"baseline1", "mobilellm-125m"}) {
      config::RunConfig rc;
      rc.model = arch::preset_by_name(preset).make();
      sweep::apply_scale(rc, s);
      rc.model.validate();
    }
  });
  return 0;
}
