// A run directory's config.json (RunConfig::canonical_json) read back into a RunConfig, so
// `runner resume RUN` trains exactly the run that was started. The result must reproduce the file
// byte for byte (same canonical JSON, same run id), or the read fails.
#pragma once

#include <string>

#include "runner/config/run_config.h"

namespace sharelab::train {

// ConfigError naming `path` and the key for malformed JSON, unknown keys or wrong types.
config::RunConfig run_config_from_json(const std::string& text, const std::string& path);
config::RunConfig load_run_config(const std::string& path);  // reads the file

}  // namespace sharelab::train
