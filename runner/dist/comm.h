// This process's place in a data-parallel job: PyTorch's c10d TCPStore and process group (Gloo on
// CPU, NCCL on CUDA), built from the launcher's environment (common/launch_env.h). The same code
// compiles against LibTorch 1.13 (process groups derive from ProcessGroup) and 2.x (from Backend):
// only the concrete classes' own methods are called.
//
// Faults: a collective that fails (a peer's connection closed) or times out (a peer hung) throws
// PeerFailure, one line naming the ranks that did not answer: every surviving rank marks itself in
// the store and waits a few seconds for the others' marks.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/launch_env.h"

namespace sharelab::dist {

struct PeerFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::chrono::seconds kDefaultTimeout{600};  // NCCL's default; Gloo's is 30 min

class Comm {
 public:
  // Connects to the job (env.world > 1): rank 0 (or torchrun's agent) hosts the TCPStore; the
  // process group's collectives run on `device` (CPU: Gloo; CUDA: NCCL, one device per rank).
  Comm(const LaunchEnv& env, const torch::Device& device, std::chrono::milliseconds timeout);
  ~Comm();
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  int rank() const { return env_.rank; }
  int world() const { return env_.world; }
  const LaunchEnv& env() const { return env_; }
  const torch::Device& device() const { return device_; }

  // An all-reduce (sum) under way; wait() makes its result visible (CUDA: on the current stream).
  class Pending {
   public:
    void wait();
    bool done() const;

   private:
    friend class Comm;
    struct Impl;
    std::shared_ptr<Impl> impl_;
  };

  // `t`: dense, contiguous, on device(). Gloo has no average: sum, then divide by world().
  Pending allreduce_sum_async(const torch::Tensor& t, const std::string& what);
  void allreduce_sum(const torch::Tensor& t, const std::string& what);
  void broadcast(const torch::Tensor& t, int root, const std::string& what);
  void barrier(const std::string& what);

  // Rank 0's `value` on every rank, through the store; others wait up to `wait` (long: rank 0 may
  // be preparing data or evaluating meanwhile). Keys are numbered: every rank must call in step.
  std::string share(const std::string& value, std::chrono::milliseconds wait);

  // Best effort, before this rank exits on an error: the others name it with the message.
  void report_error(const std::string& message) noexcept;

 private:
  [[noreturn]] void fail(const std::string& what, const std::exception& e);

  struct Impl;
  LaunchEnv env_;
  torch::Device device_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Impl> impl_;
  int64_t shares_ = 0;
};

// The job's Comm when this process is one of several (set by the commands), else nullptr.
Comm* job();
void set_job(Comm* comm);

}  // namespace sharelab::dist
