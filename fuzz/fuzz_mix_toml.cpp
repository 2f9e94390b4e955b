// A data-mix TOML (configs/data/*.toml) as `runner data prepare --mix` reads it, without matching
// the sources' globs against the file system.
#include "fuzz/fuzz_target.h"
#include "runner/data/mix.h"

SHARELAB_FUZZ_TARGET(mix_toml) {
  using namespace sharelab;
  const std::string file = "fuzz/mix.toml";
  fuzz::expect_config_error(file, [&] {
    data::parse_mix(std::string(reinterpret_cast<const char*>(data), size), file, /*match_files=*/false);
  });
  return 0;
}
