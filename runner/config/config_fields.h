// Every key of a RunConfig by its dotted path ("model.d_model", "train.lr", "eval.tasks"): typed
// assignment from a sweep Value with one-line errors that name where the value came from, and
// the JSON of each section. [model] keys come from arch::spec_fields(); the other
// sections are tables here, so adding a field to run_config.h means adding one line below.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "runner/config/run_config.h"
#include "runner/config/value.h"

namespace sharelab::config {

// Sections a sweep file may hold, in canonical order.
const std::vector<std::string>& config_sections();  // model, train, data, eval, profile

// Keys of one section ("preset" included for model), comma-separated, for error messages.
std::string section_keys(const std::string& section);
bool is_known_key(const std::string& path);  // "train.lr" -> true

// Sets one field. Throws ConfigError "<where>: <path>: <problem>" for an unknown key or a
// value of the wrong type. model.preset is not a field (it picks the starting spec): rejected here.
void assign(RunConfig& rc, const Assignment& a);

// {"key": value, ...} of every field of one section: RunConfig::canonical_json dumps it.
nlohmann::json section_json(const RunConfig& rc, const std::string& section);

}  // namespace sharelab::config
