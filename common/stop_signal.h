// SIGTERM, SIGUSR1 and SIGINT as "stop at the next step boundary": Slurm sends SIGUSR1/SIGTERM
// before a preemption or the time limit (sbatch --signal=USR1@T), torchrun forwards SIGTERM, a
// terminal sends SIGINT (Ctrl-C). The trainer checkpoints and the process exits with kExitRequeue
// (75, common/errors.h: "run the same command again") instead of dying mid-step, whichever of the
// three it was. A second stop signal exits at once with 128 + the signal (SIGINT 130, SIGTERM 143,
// SIGUSR1 138): no checkpoint, only the temporary file being written is removed
// (arch::remove_pending_tmp), so the files under their final names (the previous checkpoint and
// `latest`) are the complete ones written before. On a rank started by a launcher (torchrun,
// `--nproc`, srun), a signal sent by that parent counts as the first one only: launchers pass on a
// stop the terminal may have delivered to the ranks already.
#pragma once

namespace sharelab {

void install_stop_handlers();  // idempotent
bool stop_requested();         // a stop signal arrived since install
int stop_signal();             // the first one (0: none)

}  // namespace sharelab
