// What a launcher tells each process of a job through its environment: torchrun's contract
// (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, the elastic agent's
// store), Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, the first host of the node list),
// or nothing (one process). No LibTorch here: the process group is built from this in runner/dist.
#pragma once

#include <string>

namespace sharelab {

struct LaunchEnv {
  std::string launcher = "none";  // "none", "torchrun" (or `runner --nproc`), "slurm"
  int rank = 0, world = 1;
  int local_rank = 0, local_world = 1;  // this node's processes
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // torchrun's elastic agent hosts the store (TORCHELASTIC_USE_AGENT_STORE=True): every rank is a
  // client, under the prefix torch uses, "/worker/attempt_<TORCHELASTIC_RESTART_COUNT>".
  bool agent_store = false;
  std::string store_prefix;

  bool distributed() const { return world > 1; }
  std::string where() const;  // "rank 1 of 4 (torchrun, master 10.0.0.1:29500)", for messages
};

// The launcher's variables; ConfigError naming the variable when one is malformed or missing.
// torchrun's variables win over Slurm's (torchrun inside an allocation).
LaunchEnv read_launch_env();

// The integer in environment variable `name`, `unset` when it is absent or empty; ConfigError when it
// is not a whole number >= `min`.
int env_int(const char* name, int unset, int min);

// This process's index among those on its node; 0 when unset.
inline int local_rank() { return read_launch_env().local_rank; }
// The number of processes of the job; 1 when unset.
inline int world_size() { return read_launch_env().world; }

// A TCP port on 127.0.0.1 that nobody listens on now (the kernel's choice), for a local job's store.
int free_loopback_port();

// The first host of a Slurm node list: "gpu[007-010,12],login1" -> "gpu007", "a[1-2]-b[3-4]" -> "a1-b3".
std::string first_slurm_host(const std::string& nodelist);

}  // namespace sharelab
