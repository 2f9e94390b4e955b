// The one exception type for user-facing mistakes (config, CLI, data, checkpoint). Executables
// catch it once in main(), print the one-line message and exit 2; anything else exits 1.
#pragma once

#include <stdexcept>
#include <string>

namespace sharelab {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Exit codes shared by every executable.
constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 1;
// Stopped by SIGTERM/SIGUSR1 (Slurm preemption, the time limit) after writing a checkpoint:
// EX_TEMPFAIL, "run the same command again" (the emitted sbatch scripts requeue on it).
constexpr int kExitRequeue = 75;

}  // namespace sharelab

namespace sharelab::arch {
using sharelab::ConfigError;
}
