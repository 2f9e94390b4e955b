// runner/dist in one process: two ranks as two threads, each with its own TCPStore client and Gloo
// process group over loopback. The bucketed all-reduce against the plain average of each rank's own
// gradients; a shared module reduced once; nothing started on an unarmed (accumulation) backward;
// buckets started during backward when there are several. (tests/cli/dist_train.sh covers the
// launchers, the trainer and the faults with real processes.)
#include <doctest/doctest.h>

#include <functional>
#include <thread>

#include "arch/model.h"
#include "arch/registry.h"
#include "runner/dist/comm.h"
#include "runner/dist/grad_reducer.h"

using namespace sharelab;

namespace {

// Runs body(comm) on two ranks (threads) of one job; rethrows the first failure.
void two_ranks(const std::function<void(dist::Comm&)>& body) {
  const int port = free_loopback_port();
  std::exception_ptr err[2];
  std::thread t[2];
  for (int r = 0; r < 2; ++r)
    t[r] = std::thread([&, r] {
      try {
        LaunchEnv env;
        env.launcher = "test";
        env.rank = r;
        env.world = 2;
        env.local_rank = r;
        env.local_world = 2;
        env.master_port = port;
        dist::Comm comm(env, torch::kCPU, std::chrono::seconds(30));
        body(comm);
      } catch (...) {
        err[r] = std::current_exception();
      }
    });
  for (auto& th : t) th.join();
  for (auto& e : err)
    if (e) std::rethrow_exception(e);
}

std::vector<torch::Tensor> params_of(arch::CausalLM& m) {
  std::vector<torch::Tensor> p;
  for (auto& t : m->parameters()) p.push_back(t);
  return p;
}

// A rank's own batch: different rows on each rank.
torch::Tensor rows_for(int rank) {
  torch::manual_seed(100 + rank);
  return torch::randint(0, 64, {2, 9}, torch::kInt64);
}

void backward_on(arch::CausalLM& m, const torch::Tensor& x) {
  m->loss(x.narrow(1, 0, 8), x.narrow(1, 1, 8)).backward();
}

arch::CausalLM model(const char* scheme) {
  torch::manual_seed(0);
  arch::CausalLM m(arch::resolve_preset("debug", {std::string("scheme=") + scheme}));
  m->reset_parameters(0);
  return m;
}

}  // namespace

TEST_CASE("the bucketed all-reduce gives every rank the average of the ranks' gradients") {
  for (const char* scheme : {"none", "shared-ffn"}) {
    CAPTURE(scheme);
    // What each rank's gradients are alone, then their average.
    std::vector<torch::Tensor> want;
    for (int r = 0; r < 2; ++r) {
      auto m = model(scheme);
      backward_on(m, rows_for(r));
      auto p = params_of(m);
      for (size_t i = 0; i < p.size(); ++i) {
        if (r == 0) want.push_back(p[i].grad().clone() / 2);
        else want[i] += p[i].grad() / 2;
      }
    }
    for (double bucket_mb : {25.0, 0.01}) {  // one bucket; many (started during backward)
      CAPTURE(bucket_mb);
      // Built here: the ranks' threads would race on the global generator (processes do not).
      std::vector<arch::CausalLM> models = {model(scheme), model(scheme)};
      const std::vector<torch::Tensor> rows = {rows_for(0), rows_for(1)};
      two_ranks([&](dist::Comm& comm) {
        auto& m = models[size_t(comm.rank())];
        auto p = params_of(m);
        dist::GradReducer red(comm, p, bucket_mb * 1024 * 1024);
        int64_t unique = 0;
        for (auto& t : p) unique += t.numel();
        // A shared module is one parameter: the reduced bytes are the unique parameters' bytes.
        CHECK(red.stats().bytes == doctest::Approx(4.0 * double(unique)));
        red.arm(true);
        backward_on(m, rows[size_t(comm.rank())]);
        if (bucket_mb < 1) CHECK(red.stats().started_early > 0);  // overlap: buckets left during backward
        red.finish();
        for (size_t i = 0; i < p.size(); ++i) CHECK(torch::allclose(p[i].grad(), want[i], 1e-6, 1e-7));
      });
    }
  }
}

TEST_CASE("an unarmed backward (accumulation micro-step) starts no all-reduce, the armed one reduces the sum") {
  std::vector<arch::CausalLM> models = {model("shared-ffn"), model("shared-ffn")};
  const std::vector<torch::Tensor> rows = {rows_for(0), rows_for(1), rows_for(2), rows_for(3)};
  two_ranks([&](dist::Comm& comm) {
    auto& m = models[size_t(comm.rank())];
    auto p = params_of(m);
    dist::GradReducer red(comm, p, 0.01 * 1024 * 1024);
    red.arm(false);
    backward_on(m, rows[size_t(comm.rank())]);  // first micro-batch: local accumulation only
    CHECK(red.stats().started_early == 0);
    std::vector<torch::Tensor> local;
    for (auto& t : p) local.push_back(t.grad().clone());
    red.arm(true);
    backward_on(m, rows[size_t(comm.rank()) + 2]);  // the last micro-batch: reduced
    red.finish();
    // Every rank ends with the same gradients: the average over ranks of (both micro-batches).
    for (auto& t : p) {
      auto other = t.grad().clone();
      comm.broadcast(other, 0, "check");
      CHECK(torch::equal(other, t.grad()));
    }
  });
}

TEST_CASE("a collective whose peer is gone fails with a line naming that rank") {
  std::string msg;
  try {
    two_ranks([&](dist::Comm& comm) {
      if (comm.rank() == 1) {
        comm.report_error("disk full");
        throw std::runtime_error("rank 1 stops");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      try {
        comm.barrier("test barrier");
      } catch (const dist::PeerFailure& e) {
        msg = e.what();
      }
    });
  } catch (const std::runtime_error&) {
  }
  CHECK(msg.find("data-parallel test barrier failed") != std::string::npos);
  CHECK(msg.find("rank 1 failed: disk full") != std::string::npos);
}
