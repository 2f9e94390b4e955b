// Sweep files as `runner --sweep F --dry-run` reads them: the file, its `[meta] extends` base and
// its scale, then the expansion into validated runs (where the scale is applied). The input is up
// to three files cut at "\n---\n": sweep.toml, base.toml, scales/s.toml (the seeds extend
// "base.toml" and use scale "s").
#include "fuzz/fuzz_target.h"
#include "runner/sweep/expand.h"
#include "runner/sweep/sweep_file.h"

SHARELAB_FUZZ_TARGET(sweep_toml) {
  using namespace sharelab;
  if (fuzz::escapes_scratch(data, size)) return 0;
  const fuzz::Parts p = fuzz::split_parts(data, size, 3);
  const std::string dir = fuzz::scratch_dir() + "/sweep";
  const std::string files[3] = {dir + "/sweep.toml", dir + "/base.toml", dir + "/scales/s.toml"};
  for (int k = 0; k < 3; ++k) fuzz::write_file(files[k], p.text[k], p.present[k]);
  fuzz::expect_config_error(dir + "/", [&] {
    const sweep::SweepFile sf = sweep::load_sweep(files[0]);
    sweep::expand_sweep(sf, {});
  });
  return 0;
}
