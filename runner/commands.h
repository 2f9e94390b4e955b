// The runner's commands, one file each (runner/cmd_*.cpp), listed in order in runner/main.cpp.
// A command takes the arguments after its name and returns an exit code; errors are thrown
// (ConfigError -> exit 2, anything else -> exit 1) and reported once, in main().
#pragma once

#include <string>
#include <vector>

namespace sharelab::runner {

using Args = std::vector<std::string>;

int cmd_presets(const Args& args);
int cmd_describe(const Args& args);
int cmd_export(const Args& args);
int cmd_logits(const Args& args);
int cmd_generate(const Args& args);
int cmd_data(const Args& args);
int cmd_train(const Args& args);
int cmd_resume(const Args& args);
int cmd_sweep(const Args& args);
int cmd_eval(const Args& args);
int cmd_profile(const Args& args);

}  // namespace sharelab::runner
