// SIGTERM and SIGUSR1 as "stop at the next step boundary": Slurm sends them before a preemption or
// the time limit (sbatch --signal=USR1@T), torchrun forwards SIGTERM. The trainer checkpoints and
// the process exits with kExitRequeue (common/errors.h) instead of dying mid-step.
#pragma once

namespace sharelab {

void install_stop_handlers();  // idempotent
bool stop_requested();         // a SIGTERM or SIGUSR1 arrived since install

}  // namespace sharelab
