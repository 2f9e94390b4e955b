// runner: the suite's main executable. `runner COMMAND --help` for each command.
// `runner --sweep FILE.toml [...]` is shorthand for `runner sweep FILE.toml [...]`.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "arch/cpu_runtime.h"
#include "arch/errors.h"
#include "runner/commands.h"

namespace sharelab::runner {
std::vector<Command>& command_table() {
  static std::vector<Command> table;
  return table;
}
}  // namespace sharelab::runner

namespace {

using sharelab::runner::Command;

std::vector<Command> sorted_commands() {
  auto cmds = sharelab::runner::command_table();
  std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.order < b.order; });
  return cmds;
}

void usage(std::ostream& out) {
  out << "usage: runner COMMAND [options]   (runner COMMAND --help)\n"
         "       runner --sweep FILE.toml [--dry-run] [--only NAME] [--set key=value ...]\n\ncommands:\n";
  for (const auto& c : sorted_commands()) {
    std::string n = c.name;
    out << "  " << n << std::string(n.size() < 12 ? 12 - n.size() : 1, ' ') << c.summary << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? sharelab::kExitUsage : 0;
  }
  if (args[0] == "--sweep") args[0] = "sweep";
  sharelab::arch::configure_cpu_runtime();  // before any tensor  // the users' spelling: runner --sweep configs/table1.toml
  try {
    const auto cmds = sorted_commands();
    for (const auto& c : cmds)
      if (args[0] == c.name) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    std::string names;
    for (const auto& c : cmds) names += (names.empty() ? "" : ", ") + std::string(c.name);
    throw sharelab::ConfigError("unknown command '" + args[0] + "'; known: " + names);
  } catch (const sharelab::ConfigError& e) {
    std::cerr << "runner: error: " << e.what() << "\n";
    return sharelab::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "runner: error: " << e.what() << "\n";
    return sharelab::kExitRuntime;
  }
}
