// manifest.json of a prepared data directory (runner/data/manifest.h), as `runner data inspect`
// and training read it.
#include "fuzz/fuzz_target.h"
#include "runner/data/manifest.h"

SHARELAB_FUZZ_TARGET(manifest_json) {
  using namespace sharelab;
  const std::string file = "fuzz/manifest.json";
  fuzz::expect_config_error(file, [&] {
    data::Manifest::from_json(std::string(reinterpret_cast<const char*>(data), size), file);
  });
  return 0;
}
