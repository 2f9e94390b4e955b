#include "common/stop_signal.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "common/atomic_file.h"

namespace sharelab {

namespace {

std::atomic<int> g_signal{0};  // lock-free: written by a handler or the sigwait thread
bool g_launched = false;      // a rank of torchrun, `--nproc` or srun: its parent forwards signals
bool g_speaks = true;         // rank 0 (or one process) says what a signal does

void say(const char* text) {  // async-signal-safe
  if (g_speaks) (void)!::write(2, text, std::strlen(text));
}

const char* name_of(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    default: return "signal";
  }
}

// Async-signal-safe (the handler and the sigwait thread both call it).
void on_signal(int sig, pid_t sender) {
  int none = 0;
  if (g_signal.compare_exchange_strong(none, sig)) {
    char line[200] = "runner: ";
    std::strcat(line, name_of(sig));
    std::strcat(line, ": stopping after a checkpoint at the next step boundary (exit 75); a second signal exits at once\n");
    say(line);
    return;
  }
  if (g_launched && sender == ::getppid()) return;  // the launcher passing on the same stop
  arch::remove_pending_tmp();
  char line[200] = "runner: second stop signal (";
  std::strcat(line, name_of(sig));
  std::strcat(line, "): exiting at once, without a checkpoint; the latest one is intact\n");
  say(line);
  ::_exit(128 + sig);
}

extern "C" void on_stop_signal(int sig, siginfo_t* info, void*) { on_signal(sig, info ? info->si_pid : 0); }

}  // namespace

// The signals are blocked in this thread and so in every thread started after it (the process
// group's Gloo threads among them), and taken by one thread that waits for them: a SIGTERM landing
// in a communication thread's system call made runs crash (heap corruption) in 3 of 10 preemptions.
// Threads started before keep the handler, which does the same with async-signal-safe calls.
void install_stop_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_launched = std::getenv("WORLD_SIZE") || std::getenv("SLURM_PROCID");
    for (const char* v : {"RANK", "SLURM_PROCID"})
      if (const char* r = std::getenv(v); r && std::strcmp(r, "0") != 0) g_speaks = false;
    struct sigaction sa {};
    sa.sa_sigaction = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGUSR1, SIGINT}) {
      sigaction(sig, &sa, nullptr);
      sigaddset(&set, sig);
    }
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      for (;;) {
        siginfo_t info{};
        const int sig = sigwaitinfo(&set, &info);
        if (sig > 0) on_signal(sig, info.si_pid);
      }
    }).detach();
  });
}

bool stop_requested() { return g_signal != 0; }

int stop_signal() { return g_signal; }

}  // namespace sharelab
