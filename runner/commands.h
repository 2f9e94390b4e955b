// The runner's subcommands. Each takes the arguments after its name and returns an exit code;
// errors are thrown (ConfigError -> exit 2) and reported once, in main().
#pragma once

#include <string>
#include <vector>

namespace sharelab::runner {

using Args = std::vector<std::string>;

int cmd_presets(const Args& args);
int cmd_describe(const Args& args);
int cmd_export(const Args& args);
int cmd_logits(const Args& args);

}  // namespace sharelab::runner
