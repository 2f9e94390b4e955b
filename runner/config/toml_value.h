// Configuration values from TOML: a sweep file's, a scale's or a `--set key=value` flag's.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "runner/config/value.h"

namespace sharelab::config {

// A TOML value as a config Value; tables, dates and mixed arrays are not configuration values.
// Throws ConfigError "<where>: <key>: expected ..." (common/toml_reader.h's format) otherwise.
Value value_from_toml(const toml::node& n, const std::string& where, const std::string& key);

// Throws ConfigError naming the known sections or keys unless `path` ("train.lr") is a field.
void check_key(const std::string& where, const std::string& path);

// `--set key=value`: the value is TOML ("3e-4", "true", "[\"a\"]", "\"x\""); a bare word that is
// not valid TOML is taken as a string, so `--set model.preset=debug` works.
Assignment parse_set(const std::string& assignment);

}  // namespace sharelab::config
