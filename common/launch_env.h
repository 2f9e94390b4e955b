// What a launcher (torchrun, a Slurm script) tells each process through its environment.
#pragma once

#include <cstdlib>
#include <string>

#include "common/errors.h"

namespace sharelab {

// LOCAL_RANK: this process's index among those on its node (torchrun sets it); 0 when unset.
inline int local_rank() {
  const char* v = std::getenv("LOCAL_RANK");
  if (!v || !*v) return 0;
  const std::string s = v;
  if (s.find_first_not_of("0123456789") != std::string::npos || s.size() > 6)
    throw ConfigError("LOCAL_RANK='" + s + "': expected a non-negative integer (set by torchrun)");
  return std::stoi(s);
}

// WORLD_SIZE: the number of processes of the job (torchrun sets it); 1 when unset.
inline int world_size() {
  const char* v = std::getenv("WORLD_SIZE");
  if (!v || !*v) return 1;
  const std::string s = v;
  if (s.find_first_not_of("0123456789") != std::string::npos || s.size() > 6 || std::stoi(s) < 1)
    throw ConfigError("WORLD_SIZE='" + s + "': expected a positive integer (set by torchrun)");
  return std::stoi(s);
}

}  // namespace sharelab
