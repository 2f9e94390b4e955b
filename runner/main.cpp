// runner: the suite's main executable. `runner COMMAND --help` for each command.
#include <torch/torch.h>

#include <iostream>
#include <string>
#include <vector>

#include "arch/errors.h"
#include "runner/commands.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const sharelab::runner::Args&);
};

const std::vector<Command> kCommands = {
    {"presets", "table of every preset: geometry, scheme, unique/effective params, GFLOPs/token", sharelab::runner::cmd_presets},
    {"describe", "one preset in full (with --set overrides): spec, layout, accounting", sharelab::runner::cmd_describe},
    {"export", "build a preset and write its weights (native HDF5 and/or HF-named HDF5)", sharelab::runner::cmd_export},
    {"logits", "run a forward pass on given token ids and write the logits as .npy", sharelab::runner::cmd_logits},
};

void usage(std::ostream& out) {
  out << "usage: runner COMMAND [options]   (runner COMMAND --help)\n\ncommands:\n";
  for (const auto& c : kCommands) out << "  " << c.name << std::string(12 - std::string(c.name).size(), ' ') << c.summary << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? sharelab::kExitUsage : 0;
  }
  try {
    for (const auto& c : kCommands)
      if (args[0] == c.name) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    std::string names;
    for (const auto& c : kCommands) names += (names.empty() ? "" : ", ") + std::string(c.name);
    throw sharelab::ConfigError("unknown command '" + args[0] + "'; known: " + names);
  } catch (const sharelab::ConfigError& e) {
    std::cerr << "runner: error: " << e.what() << "\n";
    return sharelab::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "runner: error: " << e.what() << "\n";
    return sharelab::kExitRuntime;
  }
}
