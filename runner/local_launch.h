// `runner train|resume|sweep ... --nproc N`: a workstation's torchrun. Starts N copies of this
// runner on this machine with torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE,
// LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, a free MASTER_PORT), forwards SIGTERM/SIGUSR1/SIGINT
// to them, and when one fails stops the others and names it. Loopback only.
#pragma once

#include <string>
#include <vector>

namespace sharelab::runner {

// Takes `--nproc N` / `--nproc=N` out of args; 0 when absent. ConfigError when N is not 1..256.
int take_nproc(std::vector<std::string>& args);

// Runs `args` (the command line without the program and --nproc) as `nproc` local ranks; returns
// the job's exit code: 0 when every rank succeeded, kExitRequeue when they stopped on a signal
// after a checkpoint, else the first failed rank's code.
int launch_local(int nproc, const std::vector<std::string>& args);

}  // namespace sharelab::runner
