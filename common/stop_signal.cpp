#include "common/stop_signal.h"

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

namespace sharelab {

namespace {

std::atomic<int> g_signal{0};  // lock-free: written by a handler or the sigwait thread

extern "C" void on_stop_signal(int sig) { g_signal = sig; }

}  // namespace

// The signals are blocked in this thread and so in every thread started after it (the process
// group's Gloo threads among them), and taken by one thread that waits for them: a SIGTERM landing
// in a communication thread's system call made runs crash (heap corruption) in 3 of 10 preemptions.
// Threads started before keep the handler, which only sets the flag.
void install_stop_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGUSR1, &sa, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) == 0) g_signal = sig;
      }
    }).detach();
  });
}

bool stop_requested() { return g_signal != 0; }

}  // namespace sharelab
