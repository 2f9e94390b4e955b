#include "runner/train/run_record.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <fstream>
#include <map>

#include "arch/accounting.h"
#include "kernels/torch_compat.h"
#include "runner/train/peak_flops.h"

namespace sharelab::train {

namespace {

// VmHWM of /proc/self/status: the peak resident set of this process, in bytes.
double peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return 1024.0 * std::stod(line.substr(6));
  return 0;
}

// Data parallel: the gradient all-reduce per step alone, what of it stayed exposed after backward
// (the mean wait in GradReducer::finish), the hidden fraction; measured, on rank 0.
void put_dp_scalars(TrainSession& s, std::map<std::string, double>& sc) {
  dist::GradReducer* red = s.reducer();
  if (!red || red->stats().steps == 0) return;
  const auto& st = red->stats();
  const double alone = red->time_blocking(5), exposed = st.exposed_sum_s / double(st.steps);
  sc["dp_allreduce_s"] = alone;
  sc["dp_exposed_s"] = exposed;
  // The wait also holds the copies into and out of the buckets: with one bucket (small models)
  // nothing overlaps and it exceeds the all-reduce alone; the fraction is then 0, not negative.
  sc["dp_hidden_fraction"] = alone > 0 ? std::max(0.0, 1.0 - exposed / alone) : 0;
  sc["dp_buckets"] = st.buckets;
  sc["dp_gradient_bytes"] = st.bytes;
  if (s.speaks())
    std::cerr << fmt::format("data parallel: {} ranks, {} bucket(s) of {:.1f} MB gradients; all-reduce alone {:.2f} ms "
                             "per step, exposed after backward {:.2f} ms ({:.0f}% hidden)\n",
                             s.shape().world, st.buckets, st.bytes / 1e6, 1e3 * alone, 1e3 * exposed,
                             100 * sc["dp_hidden_fraction"]);
}

void put_scalars(const config::RunConfig& run, TrainSession& s, const TrainResult& res, store::ResultsStore* db) {
  const double train_flops = 3.0 * arch::forward_flops_per_token(run.model, run.train.seq_len);
  const double peak = measured_matmul_flops(s.device(), s.bf16());
  std::map<std::string, double> sc = {
      {"unique_params", double(arch::unique_params(run.model).total())},
      {"effective_params", double(arch::effective_params(run.model).total())},
      {"tokens", res.tokens},
      {"steps", double(res.steps)},
      {"wall_s", res.wall_s},
      {"final_train_loss", res.final_train_loss},
      {"tokens_per_s", res.tokens_per_s},
      {"epochs", res.epochs},
      {"mfu", res.tokens_per_s * train_flops / (peak * s.shape().world)},  // per device
      {"world_size", double(s.shape().world)},  // data-parallel ranks; tokens_per_s is the job's
      {"peak_matmul_flops", peak},
      {"threads", double(s.threads())},
      {"nonfinite_skipped_steps", double(s.state().nonfinite_skipped)},  // train.skip_nonfinite
  };
  if (s.device().is_cuda()) {
    // The caching allocator's peaks over the whole run (host RSS says nothing about the GPU).
    const auto mem = kernels::compat::cuda_memory_peak(s.device());
    sc["cuda_peak_allocated_bytes"] = double(mem.allocated_peak);
    sc["cuda_peak_reserved_bytes"] = double(mem.reserved_peak);
    sc["gpu_hours"] = res.wall_s * s.shape().world / 3600.0;
  } else {
    sc["peak_rss_bytes"] = peak_rss_bytes();
    sc["cpu_hours"] = s.state().cpu_s / 3600.0;  // user + system CPU time, all processes of the run
  }
  if (s.has_validation()) {
    sc["final_val_loss"] = res.final_val_loss;
    sc["val_ppl"] = std::exp(res.final_val_loss);
  }
  put_dp_scalars(s, sc);  // collective: every rank is here
  if (db) db->put_scalars(run.run_id(), sc);
}

}  // namespace

TrainResult record_run(const config::RunConfig& run, const TrainOptions& opt, TrainSession& s,
                       const std::string& last_checkpoint) {
  const LoopState& st = s.state();
  TrainResult res;
  res.finished = s.done();
  res.steps = st.step;
  res.tokens = st.tokens;
  res.final_train_loss = st.last_loss;
  res.final_val_loss = st.last_val_loss;
  res.wall_s = st.wall_s;
  res.tokens_per_s = st.train_s > 0 ? st.tokens / st.train_s : 0;
  res.epochs = st.epochs;
  res.final_checkpoint = last_checkpoint;
  if (res.finished && res.final_checkpoint.empty()) {
    // Already finished before this call (resumed from the final checkpoint): nothing was trained.
    if (auto ck = latest_checkpoint(opt.run_dir)) res.final_checkpoint = *ck;
  }
  if (res.finished && (opt.store || s.reducer())) put_scalars(run, s, res, s.speaks() ? opt.store : nullptr);
  return res;
}

}  // namespace sharelab::train
