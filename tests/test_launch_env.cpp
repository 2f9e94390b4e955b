// The launchers' contracts (common/launch_env.h): torchrun, the elastic agent's store, Slurm, none.
#include <doctest/doctest.h>

#include <cstdlib>
#include <initializer_list>
#include <utility>

#include "common/errors.h"
#include "common/launch_env.h"

using namespace sharelab;

namespace {

const char* const kVars[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                             "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT", "SLURM_PROCID",
                             "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE", "SLURM_STEP_TASKS_PER_NODE",
                             "SLURM_JOB_NODELIST", "SLURM_NODELIST", "SLURM_JOB_ID", "SLURM_STEP_NUM_TASKS",
                             "SLURM_STEP_NODELIST"};

// Sets exactly these launcher variables for the scope of one test.
struct Env {
  Env(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const char* v : kVars) ::unsetenv(v);
    for (const auto& [k, v] : vars) ::setenv(k, v, 1);
  }
  ~Env() {
    for (const char* v : kVars) ::unsetenv(v);
  }
};

}  // namespace

TEST_CASE("no launcher: one process, LOCAL_RANK still picks the device") {
  Env env({{"LOCAL_RANK", "3"}});
  const LaunchEnv e = read_launch_env();
  CHECK(e.launcher == "none");
  CHECK(e.world == 1);
  CHECK(e.rank == 0);
  CHECK(e.local_rank == 3);
  CHECK_FALSE(e.distributed());
}

TEST_CASE("torchrun: rank, world, local rank and master, rank 0 hosting the store") {
  Env env({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "4"},
           {"MASTER_ADDR", "node01"}, {"MASTER_PORT", "29400"}});
  const LaunchEnv e = read_launch_env();
  CHECK(e.launcher == "torchrun");
  CHECK(e.rank == 5);
  CHECK(e.world == 8);
  CHECK(e.local_rank == 1);
  CHECK(e.local_world == 4);
  CHECK(e.master_addr == "node01");
  CHECK(e.master_port == 29400);
  CHECK_FALSE(e.agent_store);
  CHECK(e.where() == "rank 5 of 8 (torchrun, master node01:29400)");
}

TEST_CASE("torchrun's agent store: every rank a client under /worker/attempt_<restart count>") {
  Env env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"},
           {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}});
  const LaunchEnv e = read_launch_env();
  CHECK(e.agent_store);
  CHECK(e.store_prefix == "/worker/attempt_2");
}

TEST_CASE("torchrun: a missing or malformed variable is named") {
  {
    Env env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500"}});
    CHECK_THROWS_WITH_AS(read_launch_env(), doctest::Contains("MASTER_ADDR is not set"), ConfigError);
  }
  {
    Env env({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}});
    CHECK_THROWS_WITH_AS(read_launch_env(), doctest::Contains("RANK=2 with WORLD_SIZE=2"), ConfigError);
  }
  {
    Env env({{"RANK", "0"}, {"WORLD_SIZE", "two"}});
    CHECK_THROWS_WITH_AS(read_launch_env(), doctest::Contains("WORLD_SIZE='two'"), ConfigError);
  }
  {
    Env env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}});
    CHECK_THROWS_WITH_AS(read_launch_env(), doctest::Contains("MASTER_PORT=70000"), ConfigError);
  }
}

TEST_CASE("Slurm: SLURM_PROCID/NTASKS/LOCALID, the node list's first host, port 15000 + job id's last 4 digits") {
  Env env({{"SLURM_PROCID", "9"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "1"},
           {"SLURM_STEP_TASKS_PER_NODE", "8(x2)"}, {"SLURM_JOB_NODELIST", "gpu[007-008]"}, {"SLURM_JOB_ID", "4812345"}});
  const LaunchEnv e = read_launch_env();
  CHECK(e.launcher == "slurm");
  CHECK(e.rank == 9);
  CHECK(e.world == 16);
  CHECK(e.local_rank == 1);
  CHECK(e.local_world == 8);
  CHECK(e.master_addr == "gpu007");
  CHECK(e.master_port == 15000 + 2345);
}

TEST_CASE("Slurm: MASTER_ADDR/MASTER_PORT win, and torchrun inside an allocation wins over Slurm") {
  {
    Env env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "a1"}, {"MASTER_ADDR", "b2"},
             {"MASTER_PORT", "23456"}});
    const LaunchEnv e = read_launch_env();
    CHECK(e.master_addr == "b2");
    CHECK(e.master_port == 23456);
  }
  {
    Env env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"RANK", "1"}, {"WORLD_SIZE", "2"},
             {"MASTER_ADDR", "x"}, {"MASTER_PORT", "29500"}});
    const LaunchEnv e = read_launch_env();
    CHECK(e.launcher == "torchrun");
    CHECK(e.rank == 1);
  }
  {
    Env env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}});  // a single task: as today
    CHECK_FALSE(read_launch_env().distributed());
  }
}

TEST_CASE("Slurm: a step's own task count and node list win over the job's, and long job ids work") {
  Env env({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "16"}, {"SLURM_STEP_NUM_TASKS", "8"},
           {"SLURM_JOB_NODELIST", "a[1-2]"}, {"SLURM_STEP_NODELIST", "a2"}, {"SLURM_JOB_ID", "12345678901"}});
  const LaunchEnv e = read_launch_env();
  CHECK(e.world == 8);
  CHECK(e.master_addr == "a2");
  CHECK(e.master_port == 15000 + 8901);
}

TEST_CASE("Slurm node lists: first host of ranges, lists and several bracket groups") {
  CHECK(first_slurm_host("node01") == "node01");
  CHECK(first_slurm_host("node01,node02") == "node01");
  CHECK(first_slurm_host("gpu[007-010,12],login1") == "gpu007");
  CHECK(first_slurm_host("gpu[12,007-010]") == "gpu12");
  CHECK(first_slurm_host("rack[1-2]-n[03-04]") == "rack1-n03");
  CHECK_THROWS_AS(first_slurm_host("gpu[01-02"), ConfigError);
  CHECK_THROWS_AS(first_slurm_host(""), ConfigError);
}
