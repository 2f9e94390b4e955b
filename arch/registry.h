// The registry of named presets with the papers' geometry. Each entry cites its source; tests
// iterate over every entry, so adding a preset adds its coverage.
#pragma once

#include <string>
#include <vector>

#include "arch/model_spec.h"

namespace sharelab::arch {

struct Preset {
  const char* name;
  const char* source;       // paper table / released config it reproduces, and any deviation
  const char* paper_params; // the parameter count as the source prints it ("124.6M"), or ""
  ModelSpec (*make)();
};

const std::vector<Preset>& presets();
std::string preset_names();
const Preset& preset_by_name(const std::string& name);  // ConfigError listing the known names

// Preset with --set overrides applied and validated; `name` of the result stays the preset's.
ModelSpec resolve_preset(const std::string& name, const std::vector<std::string>& overrides = {});

}  // namespace sharelab::arch
