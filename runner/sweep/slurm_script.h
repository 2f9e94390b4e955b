// Slurm batch scripts for a sweep (`runner --sweep FILE --emit-slurm DIR --nodes N --gpus-per-node G`):
// one DIR/<run>.sbatch per run, each `srun`ning the runner on that one run (`--only <run name>`),
// one task per GPU, with the user's own arguments; DIR/submit_all.sh submits them; logs go to
// DIR/logs/ (the batch log and one file per rank). On SIGUSR1 (sent `signal_before_s` before the
// time limit) or SIGTERM (preemption) every rank checkpoints and exits kExitRequeue (75); the script
// then requeues its job, which runs the same command again: the run resumes from its checkpoint.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "runner/sweep/expand.h"

namespace sharelab::sweep {

struct SlurmOptions {
  std::string dir;               // where the scripts go
  int nodes = 1;                 // per run
  int gpus_per_node = 8;         // = tasks per node; 0: CPU nodes, one task each
  int cpus_per_task = 8;
  std::string time = "48:00:00";  // sbatch --time: M, M:S, H:M:S, D-H, D-H:M or D-H:M:S
  std::string partition, account;  // "": the cluster's default
  int signal_before_s = 600;     // SIGUSR1 this long before the time limit (Slurm: up to 60 s earlier)
  std::string runner;            // absolute path of the runner executable
  std::string workdir;           // absolute; each script cds here (relative paths in the sweep resolve from it)
  std::string sweep_file;        // as given on the command line (relative to workdir)
  std::vector<std::string> args;  // runner arguments every run gets: --scale, --set ..., --tasks-dir, --db, ...
  std::vector<std::string> sets;  // the user's --set assignments (to see whether train.device is set)

  int tasks_per_node() const { return gpus_per_node > 0 ? gpus_per_node : 1; }
  int world() const { return nodes * tasks_per_node(); }
};

// ConfigError naming the flag unless the options can make a script: --nodes >= 1, --gpus-per-node
// >= 0, --cpus-per-task >= 1, a --time Slurm reads that is longer than signal_before_s, and a DIR
// that an #SBATCH line can hold (no whitespace, quotes, '%', '#', '\'; "" = no scripts, not checked).
void check_slurm_options(const SlurmOptions& o);

// The --set that puts every run on the GPUs (train.device="cuda", each rank on its SLURM_LOCALID's
// GPU): added on GPU nodes unless the user's --set chooses train.device. "" when none is added.
// The plan expands with it too, so that the printed run ids are the ones the jobs will train.
std::string slurm_device_set(const SlurmOptions& o);

struct SlurmScript {
  std::string run_name, run_id;
  std::string path;  // DIR/<file name>
  std::string text;
};

// The scripts, without writing anything. Throws ConfigError (the options, or a run whose batch
// does not divide among world() ranks: "run 'NAME': train.global_batch_tokens = ...").
std::vector<SlurmScript> make_slurm_scripts(const std::vector<PlannedRun>& runs, const SlurmOptions& o);

// Validates everything (make_slurm_scripts), then creates DIR and DIR/logs and writes each script
// and DIR/submit_all.sh atomically (executable). Runs in `finished` (run ids) get a script but are
// left out of submit_all.sh (commented). Returns the scripts written.
std::vector<SlurmScript> write_slurm_scripts(const std::vector<PlannedRun>& runs, const SlurmOptions& o,
                                             const std::set<std::string>& finished = {});

// `s` as one bash word: unchanged when it holds only [A-Za-z0-9_./:=+,@%^-] (and is not empty),
// else in single quotes with each ' written '\''.
std::string shell_quote(const std::string& s);

// An sbatch --time in seconds (-1 for UNLIMITED/INFINITE); ConfigError when Slurm would not read it.
long slurm_time_seconds(const std::string& time);

}  // namespace sharelab::sweep
