// c10d from C++ (see comm.h). Store layout under the job's prefix: "pg/..." (the process group's
// rendezvous), "share/<n>" (rank 0's decisions), "fault/alive/<rank>" and "fault/error/<rank>".
#include "runner/dist/comm.h"

#include <fmt/format.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef SHARELAB_CUDA
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace sharelab::dist {

namespace {

constexpr std::chrono::seconds kFaultWindow{3};  // how long survivors wait for each other's marks

std::string first_line(const std::string& s) {
  std::string l = s.substr(0, s.find('\n'));
  return l.size() > 300 ? l.substr(0, 300) + "..." : l;
}

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

bool loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0; }

// The network interface Gloo binds: GLOO_SOCKET_IFNAME as torch's Python side reads it; loopback for
// a single-node job on 127.0.0.1 (runner --nproc); else this host's name, as createDefaultDevice does.
std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchEnv& env) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (loopback(env.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

struct Comm::Impl {
  c10::intrusive_ptr<c10d::Store> store;  // the job's prefix
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#ifdef SHARELAB_CUDA
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& ts) {
#ifdef SHARELAB_CUDA
    if (nccl) return nccl->allreduce(ts);
#endif
    return gloo->allreduce(ts);
  }
  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& ts, int root) {
    c10d::BroadcastOptions o;
    o.rootRank = root;
#ifdef SHARELAB_CUDA
    if (nccl) return nccl->broadcast(ts, o);
#endif
    return gloo->broadcast(ts, o);
  }
};

struct Comm::Pending::Impl {
  Comm* comm;
  std::string what;
  c10::intrusive_ptr<c10d::Work> work;
};

Comm::Comm(const LaunchEnv& env, const torch::Device& device, std::chrono::milliseconds timeout)
    : env_(env), device_(device), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  try {
    c10d::TCPStoreOptions so;
    so.port = uint16_t(env.master_port);
    so.isServer = !env.agent_store && env.rank == 0;
    if (so.isServer) so.numWorkers = size_t(env.world);
    so.waitWorkers = false;  // the process group's rendezvous waits for everyone
    so.timeout = timeout;
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    if (env.agent_store) store = c10::make_intrusive<c10d::PrefixStore>(env.store_prefix, store);
    impl_->store = c10::make_intrusive<c10d::PrefixStore>("sharelab", store);
    auto pg_store = c10::make_intrusive<c10d::PrefixStore>("pg", impl_->store);
    if (device.is_cuda()) {
#ifdef SHARELAB_CUDA
      // wait() then blocks the host and throws on a failed or timed-out collective, so a dead peer is
      // named here as with Gloo (without it, only the current stream waits and NCCL's watchdog aborts).
      ::setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
      ::setenv("NCCL_BLOCKING_WAIT", "1", 0);  // its name before 2.2
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = timeout;
      impl_->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(pg_store, env.rank, env.world, o);
#else
      throw std::runtime_error("this build has no CUDA (NCCL) process group");
#endif
    } else {
      auto o = c10d::ProcessGroupGloo::Options::create(timeout);
      o->devices.push_back(gloo_device(env));
      impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(pg_store, env.rank, env.world, o);
    }
  } catch (const std::exception& e) {
    throw PeerFailure(fmt::format("could not join the data-parallel job as {} within {} s: {}", env.where(),
                                  timeout.count() / 1000, first_line(e.what())));
  }
  // The rendezvous itself: every rank is here (or the timeout names who is not).
  barrier("start-up");
}

Comm::~Comm() = default;

void Comm::Pending::wait() {
  try {
    impl_->work->wait();
  } catch (const std::exception& e) {
    impl_->comm->fail(impl_->what, e);
  }
}

bool Comm::Pending::done() const { return impl_->work->isCompleted(); }

Comm::Pending Comm::allreduce_sum_async(const torch::Tensor& t, const std::string& what) {
  Pending p;
  p.impl_ = std::make_shared<Pending::Impl>();
  p.impl_->comm = this;
  p.impl_->what = what;
  try {
    std::vector<at::Tensor> ts{t};
    p.impl_->work = impl_->allreduce(ts);
  } catch (const std::exception& e) {
    fail(what, e);
  }
  return p;
}

void Comm::allreduce_sum(const torch::Tensor& t, const std::string& what) { allreduce_sum_async(t, what).wait(); }

void Comm::broadcast(const torch::Tensor& t, int root, const std::string& what) {
  try {
    std::vector<at::Tensor> ts{t};
    impl_->broadcast(ts, root)->wait();
  } catch (const std::exception& e) {
    fail(what, e);
  }
}

void Comm::barrier(const std::string& what) {
  auto t = torch::zeros({1}, torch::TensorOptions().device(device_));
  allreduce_sum(t, what);
  (void)t.cpu();  // CUDA: the host waits too
}

std::string Comm::share(const std::string& value, std::chrono::milliseconds wait) {
  const std::string key = fmt::format("share/{}", shares_++);
  try {
    if (rank() == 0) {
      impl_->store->set(key, bytes(value));
      return value;
    }
    impl_->store->wait({key}, wait);
    return text(impl_->store->get(key));
  } catch (const std::exception& e) {
    fail("waiting for rank 0", e);
  }
}

void Comm::report_error(const std::string& message) noexcept {
  try {
    impl_->store->set(fmt::format("fault/error/{}", rank()), bytes(first_line(message)));
  } catch (...) {
  }
}

void Comm::fail(const std::string& what, const std::exception& e) {
  std::vector<std::string> culprits;
  try {
    auto& s = *impl_->store;
    s.set(fmt::format("fault/alive/{}", rank()), bytes("1"));
    const auto deadline = std::chrono::steady_clock::now() + kFaultWindow;
    std::vector<int> missing;
    do {
      missing.clear();
      for (int r = 0; r < world(); ++r)
        if (r != rank() && !s.check({fmt::format("fault/alive/{}", r)})) missing.push_back(r);
      if (missing.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    for (int r : missing) {
      const std::string key = fmt::format("fault/error/{}", r);
      culprits.push_back(s.check({key}) ? fmt::format("rank {} failed: {}", r, text(s.get(key)))
                                        : fmt::format("rank {} is gone (dead or hung: no answer within {} s)", r,
                                                      kFaultWindow.count()));
    }
  } catch (const std::exception&) {
    culprits = {fmt::format("rank 0 is gone (its store at {}:{} does not answer)", env_.master_addr, env_.master_port)};
  }
  std::string who = culprits.empty() ? "every rank answered" : culprits.front();
  for (size_t i = 1; i < culprits.size(); ++i) who += "; " + culprits[i];
  throw PeerFailure(fmt::format("data-parallel {} failed: {} (master {}:{}; {})", what, who, env_.master_addr,
                                env_.master_port, first_line(e.what())));
}

namespace {
Comm* g_job = nullptr;
}

Comm* job() { return g_job; }
void set_job(Comm* comm) { g_job = comm; }

}  // namespace sharelab::dist
