// Bucketed, overlapped gradient all-reduce (see grad_reducer.h).
#include "runner/dist/grad_reducer.h"

#include <torch/csrc/autograd/utils/lambda_post_hook.h>

#include "kernels/torch_compat.h"

#include <algorithm>
#include <chrono>
#include <mutex>

namespace sharelab::dist {

struct GradReducer::State {
  Comm* comm = nullptr;
  std::vector<torch::Tensor> params;
  std::vector<int> bucket_of;                 // per parameter
  std::vector<std::vector<int>> buckets;      // parameter indices
  std::vector<torch::Tensor> flat;            // per bucket: the gradients, flattened
  std::vector<int> waiting;                   // per bucket: parameters not ready yet
  std::vector<bool> ready;                    // per parameter
  std::vector<Comm::Pending> pending;         // started buckets, in order
  int next = 0;                               // the next bucket to start
  bool armed = false;
  ReduceStats stats;
  std::mutex mu;  // CUDA: accumulators run on the device's autograd thread

  void start_ready_buckets() {
    while (next < int(buckets.size()) && waiting[size_t(next)] == 0) start(next++);
  }

  void start(int b) {
    auto& buf = flat[size_t(b)];
    int64_t off = 0;
    for (int i : buckets[size_t(b)]) {
      const auto& p = params[size_t(i)];
      auto dst = buf.narrow(0, off, p.numel());
      if (p.grad().defined()) dst.copy_(p.grad().reshape({-1}));
      else dst.zero_();  // unused in this step's forward: contributes nothing
      off += p.numel();
    }
    pending.push_back(comm->allreduce_sum_async(buf, "gradient all-reduce"));
  }

  void on_ready(int i) {
    std::lock_guard<std::mutex> lock(mu);
    if (!armed || ready[size_t(i)]) return;
    ready[size_t(i)] = true;
    --waiting[size_t(bucket_of[size_t(i)])];
    const int before = next;
    start_ready_buckets();
    stats.started_early += next - before;
  }
};

GradReducer::GradReducer(Comm& comm, const std::vector<torch::Tensor>& params, double bucket_bytes)
    : state_(std::make_shared<State>()) {
  State& s = *state_;
  s.comm = &comm;
  s.params = params;
  s.bucket_of.assign(params.size(), -1);
  double in_bucket = bucket_bytes;  // start a new bucket at the first parameter
  for (int i = int(params.size()) - 1; i >= 0; --i) {
    const auto& p = params[size_t(i)];
    const double nbytes = double(p.numel()) * double(p.element_size());
    if (in_bucket + nbytes > bucket_bytes && !(in_bucket == 0)) {
      s.buckets.emplace_back();
      in_bucket = 0;
    }
    s.buckets.back().push_back(i);
    s.bucket_of[size_t(i)] = int(s.buckets.size()) - 1;
    in_bucket += nbytes;
  }
  for (const auto& b : s.buckets) {
    int64_t n = 0;
    for (int i : b) n += params[size_t(i)].numel();
    const auto& p0 = params[size_t(b.front())];
    s.flat.push_back(torch::empty({n}, p0.options().requires_grad(false)));
    s.stats.bytes += double(n) * double(p0.element_size());
  }
  s.stats.buckets = int(s.buckets.size());
  std::weak_ptr<State> weak = state_;
  for (size_t i = 0; i < params.size(); ++i) {
    auto acc = torch::autograd::impl::grad_accumulator(params[i]);
    acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [weak, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          if (auto st = weak.lock()) st->on_ready(int(i));
          return outputs;
        }));
    accumulators_.push_back(std::move(acc));
  }
}

GradReducer::~GradReducer() = default;

void GradReducer::arm(bool armed) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  s.armed = armed;
  if (!armed) return;
  s.ready.assign(s.params.size(), false);
  s.waiting.clear();
  for (const auto& b : s.buckets) s.waiting.push_back(int(b.size()));
  s.pending.clear();
  s.next = 0;
  s.stats.started_early = 0;
}

void GradReducer::finish() {
  State& s = *state_;
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    // Parameters whose accumulator did not fire (unused this step) are ready with what they hold.
    for (size_t i = 0; i < s.params.size(); ++i)
      if (!s.ready[i]) {
        s.ready[i] = true;
        --s.waiting[size_t(s.bucket_of[i])];
      }
    s.start_ready_buckets();
    s.armed = false;
  }
  const double inv_world = 1.0 / double(s.comm->world());
  for (size_t b = 0; b < s.buckets.size(); ++b) {
    s.pending[b].wait();
    auto& buf = s.flat[b];
    buf.mul_(inv_world);
    int64_t off = 0;
    for (int i : s.buckets[b]) {
      auto& p = s.params[size_t(i)];
      auto src = buf.narrow(0, off, p.numel()).view(p.sizes());
      if (p.grad().defined()) p.mutable_grad().copy_(src);
      else p.mutable_grad() = src.clone();
      off += p.numel();
    }
  }
  kernels::compat::synchronize(s.comm->device());  // CUDA: the copies are queued
  s.stats.exposed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.stats.exposed_sum_s += s.stats.exposed_s;
  ++s.stats.steps;
}

double GradReducer::time_blocking(int reps) {
  State& s = *state_;
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Comm::Pending> p;
    for (auto& buf : s.flat) p.push_back(s.comm->allreduce_sum_async(buf, "all-reduce timing"));
    for (auto& w : p) w.wait();
    kernels::compat::synchronize(s.comm->device());
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

const ReduceStats& GradReducer::stats() const { return state_->stats; }

}  // namespace sharelab::dist
