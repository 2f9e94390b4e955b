// Plan rows and their table. The FLOP-based projection uses accounting's forward FLOPs/token x 3
// (backward = 2 x forward) at a training throughput measured once on the development machine.
#include "runner/sweep/plan.h"

#include <fmt/format.h>

#include <thread>

#include "arch/accounting.h"
#include "common/errors.h"
#include "runner/config/config_fields.h"

namespace sharelab::sweep {

namespace {

// Achieved training FLOP/s per core on the 2-core development CPU (AVX-512 BF16, OpenBLAS),
// measured with `runner train large-base` at the cpu scale on an idle machine, 2 threads:
// bf16 2032 tokens/s x 148 MFLOP/token = 300 GFLOP/s, fp32 913 tokens/s = 135 GFLOP/s. Slightly
// rounded down; per-core figures so a machine with more cores projects proportionally.
constexpr double kCpuTrainFlopsPerCoreBf16 = 140e9;
constexpr double kCpuTrainFlopsPerCoreFp32 = 60e9;
// GPU: an A100's 312 TFLOP/s bf16 peak at 40% model FLOPs utilisation (arch/cost_model.h).
constexpr double kGpuTrainFlops = 312e12 * 0.40;

}  // namespace

double assumed_train_flops(const RunConfig& rc) {
  if (rc.train.device != "cpu") return kGpuTrainFlops;
  const double per_core = rc.train.precision == "bf16" ? kCpuTrainFlopsPerCoreBf16 : kCpuTrainFlopsPerCoreFp32;
  return per_core * rc.train.threads_or_cores();
}

config::TrainConfig::Shape run_shape(const RunConfig& rc, int world) {
  try {
    return rc.train.shape(world);
  } catch (const ConfigError& e) {
    throw ConfigError("run '" + rc.name + "': " + e.what());
  }
}

std::vector<PlanRow> make_plan(const std::vector<PlannedRun>& runs, store::ResultsStore* store, int world) {
  std::vector<PlanRow> rows;
  for (const auto& p : runs) {
    PlanRow r;
    r.run = p;
    const RunConfig& rc = p.config;
    r.run_id = rc.run_id();
    r.status = "new";
    if (store)
      if (auto found = store->find_run(r.run_id)) r.status = found->status == "finished" ? "finished" : "partial";
    r.unique_params = arch::unique_params(rc.model).total();
    r.effective_params = arch::effective_params(rc.model).total();
    r.steps = rc.train.steps();
    r.tokens = double(r.steps) * double(rc.train.global_batch_tokens);  // whole steps are trained
    r.shape = run_shape(rc, world);
    std::vector<double> measured;
    if (store) measured = store->measured_tokens_per_s(rc.geometry_key());
    if (!measured.empty()) {
      r.projected_s = r.tokens / measured.front();
      r.projected_from = fmt::format("measured {:.0f} tok/s", measured.front());
    } else {
      const double flops = assumed_train_flops(rc);
      // A GPU rank has its own device; CPU ranks share this machine's cores, counted already.
      const int devices = rc.train.device == "cpu" ? 1 : world;
      r.projected_s =
          r.tokens * 3.0 * arch::forward_flops_per_token(rc.model, rc.train.seq_len) / (flops * devices);
      r.projected_from = fmt::format("FLOPs at {:.0f} GFLOP/s{}{}", flops / 1e9,
                                     devices > 1 ? fmt::format(" x {} ranks", devices) : "",
                                     rc.train.device == "cpu" ? " (assumed CPU)" : " (A100 at 40% MFU)");
    }
    rows.push_back(r);
  }
  return rows;
}

std::string format_projection(double s) {
  if (s < 120) return fmt::format("{:.0f} s", s);
  if (s < 7200) return fmt::format("{:.1f} min", s / 60);
  if (s < 3 * 86400) return fmt::format("{:.1f} h", s / 3600);
  if (s < 365 * 86400.0) return fmt::format("{:.1f} d", s / 86400);
  return fmt::format("{:.1f} y", s / (365 * 86400.0));
}

namespace {
std::string count(double n) {
  if (n >= 1e9) return fmt::format("{:.2f}B", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.1f}M", n / 1e6);
  if (n >= 1e3) return fmt::format("{:.1f}K", n / 1e3);
  return fmt::format("{:.0f}", n);
}
std::string scheme_label(const arch::ModelSpec& s) {
  if (s.repeats) return fmt::format("{} k={}", s.scheme, s.repeats);
  if (s.unique_blocks) return fmt::format("{} M={}", s.scheme, s.unique_blocks);
  return s.scheme;
}
}  // namespace

void print_plan(std::ostream& out, const std::string& sweep_name, const std::string& scale,
                const std::vector<PlanRow>& rows, int world) {
  out << fmt::format("sweep {} at scale '{}': {} run(s), each on {} rank(s); precedence: {}\n", sweep_name, scale,
                     rows.size(), world, kPrecedence);
  out << fmt::format("{:<34} {:<16} {:<18} {:>5} {:>9} {:>9} {:>9} {:>8} {:>5} {:>5} {:>5} {:<8} {:>10}  {:<16} {}\n",
                     "run", "preset", "scheme", "depth", "unique", "effective", "tokens", "steps", "world", "micro",
                     "accum", "status", "projected", "run_id", "projected from");
  double total = 0;
  size_t todo = 0;
  for (const auto& r : rows) {
    const RunConfig& rc = r.run.config;
    const bool done = r.status == "finished";
    out << fmt::format("{:<34} {:<16} {:<18} {:>5} {:>9} {:>9} {:>9} {:>8} {:>5} {:>5} {:>5} {:<8} {:>10}  {:<16} {}\n",
                       rc.name, rc.preset, scheme_label(rc.model), rc.model.n_layers, count(double(r.unique_params)),
                       count(double(r.effective_params)), count(r.tokens), r.steps, r.shape.world, r.shape.micro,
                       r.shape.accum, r.status,
                       done ? "-" : format_projection(r.projected_s), r.run_id, done ? "" : r.projected_from);
    if (!done) {
      total += r.projected_s;
      ++todo;
    }
  }
  out << fmt::format("{} run(s) to train, projected {} in total, one after another (projected, not measured)\n", todo,
                     format_projection(total));
}

}  // namespace sharelab::sweep
