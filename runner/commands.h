// The runner's subcommands. Each command file registers itself with a static CommandRegistrar,
// so adding a command touches no shared file (its .cpp is compiled straight into the runner
// executable via target_sources, never through a static library, so the registrar is linked).
// Commands take the arguments after their name and return an exit code; errors are thrown
// (ConfigError -> exit 2, anything else -> exit 1) and reported once, in main().
#pragma once

#include <string>
#include <vector>

namespace sharelab::runner {

using Args = std::vector<std::string>;
using CommandFn = int (*)(const Args& args);

struct Command {
  const char* name;
  const char* summary;
  CommandFn run;
  int order;  // position in `runner --help`
};

std::vector<Command>& command_table();

struct CommandRegistrar {
  CommandRegistrar(const char* name, const char* summary, CommandFn run, int order) {
    command_table().push_back({name, summary, run, order});
  }
};

}  // namespace sharelab::runner
