// Shared Boost.Program_options plumbing for the runner's subcommands: parse with a clear one-line
// error, --help on every command.
#pragma once

#include <boost/program_options.hpp>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/errors.h"

namespace sharelab::runner {

namespace po = boost::program_options;

// Parses `args` into `vm`. Returns false (after printing usage) when --help was given.
inline bool parse_command(const std::string& usage, po::options_description& opts,
                          const po::positional_options_description& pos, const std::vector<std::string>& args,
                          po::variables_map& vm) {
  opts.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << usage << "\n\n" << opts << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + " (usage: " + usage + "; see --help)");
  }
  return true;
}

// List flags given as "a,b", repeated (--dtype fp32 --dtype bf16) or both: the items, empty ones dropped.
inline std::vector<std::string> split_commas(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  for (const auto& f : flags) {
    std::string item;
    std::istringstream in(f);
    while (std::getline(in, item, ','))
      if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace sharelab::runner
