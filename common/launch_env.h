// What a launcher (torchrun, a Slurm script) tells each process through its environment.
#pragma once

#include <cstdlib>
#include <string>

#include "common/errors.h"

namespace sharelab {

// The integer in environment variable `name`, `unset` when it is absent or empty; ConfigError when it
// is not a whole number >= `min`.
inline int env_int(const char* name, int unset, int min) {
  const char* v = std::getenv(name);
  if (!v || !*v) return unset;
  const std::string s = v;
  if (s.find_first_not_of("0123456789") != std::string::npos || s.size() > 6 || std::stoi(s) < min)
    throw ConfigError(std::string(name) + "='" + s + "': expected an integer >= " + std::to_string(min) +
                      " (set by torchrun)");
  return std::stoi(s);
}

// LOCAL_RANK: this process's index among those on its node (torchrun sets it); 0 when unset.
inline int local_rank() { return env_int("LOCAL_RANK", 0, 0); }

// WORLD_SIZE: the number of processes of the job (torchrun sets it); 1 when unset.
inline int world_size() { return env_int("WORLD_SIZE", 1, 1); }

}  // namespace sharelab
