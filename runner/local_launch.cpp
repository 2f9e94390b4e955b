// The local launcher (see local_launch.h): fork + exec of /proc/self/exe, one process per rank.
#include "runner/local_launch.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>

#include "common/errors.h"
#include "common/launch_env.h"

namespace sharelab::runner {

namespace {

volatile sig_atomic_t g_forward = 0;
extern "C" void remember_signal(int sig) { g_forward = sig; }

std::string describe(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
}

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

int take_nproc(std::vector<std::string>& args) {
  int n = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string v;
    size_t erase = 0;
    if (args[i] == "--nproc") {
      if (i + 1 >= args.size()) throw ConfigError("--nproc: expected a number of processes (1..256)");
      v = args[i + 1];
      erase = 2;
    } else if (args[i].rfind("--nproc=", 0) == 0) {
      v = args[i].substr(8);
      erase = 1;
    } else {
      continue;
    }
    if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1 ||
        std::stoi(v) > 256)
      throw ConfigError("--nproc '" + v + "': expected a number of processes (1..256)");
    n = std::stoi(v);
    args.erase(args.begin() + long(i), args.begin() + long(i + erase));
    break;
  }
  return n;
}

int launch_local(int nproc, const std::vector<std::string>& args) {
  if (std::getenv("WORLD_SIZE") || std::getenv("RANK") || read_launch_env().distributed())
    throw ConfigError("--nproc: already started by a launcher (torchrun's or Slurm's variables are set); drop --nproc");
  const int port = free_loopback_port();  // rank 0's TCPStore binds it a moment later
  struct sigaction sa {};
  sa.sa_handler = remember_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGUSR1, SIGINT}) sigaction(sig, &sa, nullptr);

  // Each rank's environment and arguments, built before fork: the child only calls exec.
  std::vector<std::vector<std::string>> envs(static_cast<size_t>(nproc));
  for (int r = 0; r < nproc; ++r) {
    const std::map<std::string, std::string> set = {
        {"RANK", std::to_string(r)},          {"LOCAL_RANK", std::to_string(r)},
        {"WORLD_SIZE", std::to_string(nproc)}, {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
        {"MASTER_ADDR", "127.0.0.1"},          {"MASTER_PORT", std::to_string(port)}};
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e;
      if (!set.count(kv.substr(0, kv.find('=')))) envs[size_t(r)].push_back(kv);
    }
    for (const auto& [k, v] : set) envs[size_t(r)].push_back(k + "=" + v);
  }
  auto pointers = [](std::vector<std::string>& v) {
    std::vector<char*> p;
    for (auto& s : v) p.push_back(s.data());
    p.push_back(nullptr);
    return p;
  };
  std::vector<std::string> argv_s = {"runner"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv = pointers(argv_s);
  const pid_t launcher = ::getpid();

  std::vector<pid_t> pids(size_t(nproc), 0);
  for (int r = 0; r < nproc; ++r) {
    std::vector<char*> envp = pointers(envs[size_t(r)]);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("runner --nproc: fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the launcher gone: no orphaned ranks
      if (::getppid() != launcher) ::_exit(1);  // it went before the line above
      for (int sig : {SIGTERM, SIGUSR1, SIGINT}) ::signal(sig, SIG_DFL);
      ::execve("/proc/self/exe", argv.data(), envp.data());
      ::_exit(127);
    }
    pids[size_t(r)] = pid;
  }

  int first_failed = -1, first_status = 0, alive = nproc, forwarded = 0;
  std::vector<int> status(size_t(nproc), 0);
  auto stop_all = [&](int sig) {
    for (pid_t p : pids)
      if (p > 0) ::kill(p, sig);
  };
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (alive > 0) {
    if (g_forward && g_forward != forwarded) {  // preemption: every rank checkpoints and stops
      forwarded = g_forward;
      stop_all(forwarded);
    }
    int st = 0;
    const pid_t p = ::waitpid(-1, &st, WNOHANG);
    if (p <= 0) {
      if (std::chrono::steady_clock::now() > deadline) stop_all(SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    for (int r = 0; r < nproc; ++r) {
      if (pids[size_t(r)] != p) continue;
      pids[size_t(r)] = 0;
      status[size_t(r)] = st;
      --alive;
      const int code = exit_code(st);
      if (code != 0 && code != kExitRequeue && first_failed < 0) {
        first_failed = r;
        first_status = st;
        std::cerr << fmt::format("runner --nproc: rank {} of {} {}; stopping the other ranks\n", r, nproc,
                                 describe(st));
        // The others cannot go on without it: a grace period to end on their own, then SIGKILL
        // (SIGCONT: a stopped rank would sit on its SIGTERM).
        stop_all(SIGTERM);
        stop_all(SIGCONT);
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      }
    }
  }
  if (first_failed >= 0) return exit_code(first_status);
  for (int st : status)
    if (exit_code(st) == kExitRequeue) return kExitRequeue;
  return 0;
}

}  // namespace sharelab::runner
