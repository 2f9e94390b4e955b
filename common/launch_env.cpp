// Reading the launchers' environment (see launch_env.h).
#include "common/launch_env.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "common/errors.h"

namespace sharelab {

namespace {

std::string env_str(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool is_number(const std::string& s) {
  return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos;
}

// The leading integer of a Slurm count such as "8(x20)" or "8,4"; `unset` when absent.
int leading_int(const char* name, int unset) {
  const std::string v = env_str(name);
  size_t n = 0;
  while (n < v.size() && n < 9 && v[n] >= '0' && v[n] <= '9') ++n;
  return n ? std::stoi(v.substr(0, n)) : unset;
}

int port_of(const char* name, int unset) {
  const int p = env_int(name, unset, 1);
  if (p > 65535) throw ConfigError(fmt::format("{}={}: expected a TCP port (1..65535)", name, p));
  return p;
}

// The launcher's rank and world variables, the rank below the world.
LaunchEnv ranked(const char* launcher, const char* rank_var, const char* world_var) {
  LaunchEnv e;
  e.launcher = launcher;
  e.world = env_int(world_var, 1, 1);
  e.rank = env_int(rank_var, 0, 0);
  if (e.rank >= e.world)
    throw ConfigError(fmt::format("{}={} with {}={}: expected a rank below it", rank_var, e.rank, world_var, e.world));
  return e;
}

LaunchEnv from_torchrun() {
  LaunchEnv e = ranked("torchrun", "RANK", "WORLD_SIZE");
  e.local_world = env_int("LOCAL_WORLD_SIZE", e.world, 1);
  e.local_rank = env_int("LOCAL_RANK", e.rank % e.local_world, 0);
  if (e.world > 1) {
    e.master_addr = env_str("MASTER_ADDR");
    if (e.master_addr.empty()) throw ConfigError(fmt::format("WORLD_SIZE={} but MASTER_ADDR is not set", e.world));
    if (env_str("MASTER_PORT").empty())
      throw ConfigError(fmt::format("WORLD_SIZE={} but MASTER_PORT is not set", e.world));
  }
  e.master_port = port_of("MASTER_PORT", 29500);
  e.agent_store = env_str("TORCHELASTIC_USE_AGENT_STORE") == "True";
  if (e.agent_store) e.store_prefix = fmt::format("/worker/attempt_{}", env_int("TORCHELASTIC_RESTART_COUNT", 0, 0));
  return e;
}

LaunchEnv from_slurm() {
  // The step's own task count and nodes (srun -n/-N inside a larger allocation), else the job's.
  LaunchEnv e = ranked("slurm", "SLURM_PROCID", env_str("SLURM_STEP_NUM_TASKS").empty() ? "SLURM_NTASKS" : "SLURM_STEP_NUM_TASKS");
  e.local_rank = env_int("SLURM_LOCALID", 0, 0);
  e.local_world = leading_int("SLURM_STEP_TASKS_PER_NODE", leading_int("SLURM_NTASKS_PER_NODE", 1));
  if (e.world == 1) return e;
  e.master_addr = env_str("MASTER_ADDR");
  if (e.master_addr.empty()) {
    std::string nodes = env_str("SLURM_STEP_NODELIST");
    if (nodes.empty()) nodes = env_str("SLURM_JOB_NODELIST");
    if (nodes.empty()) nodes = env_str("SLURM_NODELIST");
    if (nodes.empty())
      throw ConfigError(fmt::format("SLURM_NTASKS={} but neither MASTER_ADDR nor SLURM_JOB_NODELIST is set", e.world));
    e.master_addr = first_slurm_host(nodes);
  }
  if (!env_str("MASTER_PORT").empty()) {
    e.master_port = port_of("MASTER_PORT", 29500);
  } else {
    // Lightning's rule: 15000 + the job id's last four digits, the same on every node of the job.
    const std::string job = env_str("SLURM_JOB_ID");
    if (job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
      throw ConfigError("SLURM_JOB_ID='" + job + "': expected the job's number (or set MASTER_PORT)");
    e.master_port = 15000 + std::stoi(job.substr(job.size() > 4 ? job.size() - 4 : 0));
  }
  return e;
}

}  // namespace

int env_int(const char* name, int unset, int min) {
  const std::string s = env_str(name);
  if (s.empty()) return unset;
  if (!is_number(s) || std::stoi(s) < min)
    throw ConfigError(fmt::format("{}='{}': expected an integer >= {} (set by the launcher)", name, s, min));
  return std::stoi(s);
}

LaunchEnv read_launch_env() {
  if (!env_str("WORLD_SIZE").empty() || !env_str("RANK").empty()) return from_torchrun();
  if (!env_str("SLURM_PROCID").empty() && !(env_str("SLURM_NTASKS").empty() && env_str("SLURM_STEP_NUM_TASKS").empty()))
    return from_slurm();
  LaunchEnv e;
  e.local_rank = env_int("LOCAL_RANK", 0, 0);
  return e;
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("no free TCP port on 127.0.0.1");
  return ntohs(a.sin_port);
}

std::string LaunchEnv::where() const {
  if (world == 1) return "one process";
  return fmt::format("rank {} of {} ({}, master {}:{})", rank, world, launcher, master_addr, master_port);
}

std::string first_slurm_host(const std::string& nodelist) {
  std::string out;
  int depth = 0;
  bool in_first = true;  // inside a bracket group: still in its first element
  for (const char c : nodelist) {
    if (c == '[') {
      ++depth;
      in_first = true;
    } else if (c == ']') {
      --depth;
    } else if (depth > 0) {
      if (c == ',' || c == '-') in_first = false;
      else if (in_first) out += c;
    } else if (c == ',') {
      break;
    } else {
      out += c;
    }
  }
  if (out.empty() || depth != 0)
    throw ConfigError("SLURM_JOB_NODELIST='" + nodelist + "': expected a Slurm node list such as gpu[01-04]");
  return out;
}

}  // namespace sharelab
