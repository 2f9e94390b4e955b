// The training loop. Shapes: R rows per micro-batch (train.micro_batch), T = train.seq_len.
#include "runner/train/train_loop.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "arch/accounting.h"
#include "common/errors.h"
#include "common/progress.h"
#include "arch/h5_tensors.h"
#include "arch/model.h"
#include "runner/train/adamw.h"
#include "runner/train/checkpoint.h"
#include "runner/train/lr_schedule.h"
#include "runner/train/peak_flops.h"
#include "runner/train/validate_train.h"
#include "runner/train/train_step.h"

namespace sharelab::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// VmHWM of /proc/self/status: the peak resident set of this process, in bytes.
double peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return 1024.0 * std::stod(line.substr(6));
  return 0;
}

// Rows (R, T + 1) int32 -> int64 on the device.
torch::Tensor to_tensor(const data::TokenBatch& b, int64_t seq_len, const torch::Device& device) {
  if (b.cols != seq_len + 1)
    throw ConfigError(fmt::format("data rows hold {} tokens but train.seq_len = {} needs {}", b.cols, seq_len, seq_len + 1));
  auto t = torch::from_blob(const_cast<int32_t*>(b.tokens.data()), {b.rows, b.cols}, torch::kInt32);
  return t.to(torch::kInt64).to(device);  // (R, T + 1)
}

// Crossed a multiple of `every` going from `before` to `after` tokens.
bool crossed(double before, double after, double every) {
  return every > 0 && std::floor(after / every) > std::floor(before / every);
}

torch::Device parse_device(const std::string& name) {
  try {
    torch::Device d(name);
    if (d.is_cuda() && !torch::cuda::is_available())
      throw ConfigError("train.device '" + name + "': this LibTorch build sees no CUDA device");
    return d;
  } catch (const c10::Error&) {
    throw ConfigError("train.device '" + name + "' is not a device (expected cpu, cuda or cuda:N)");
  }
}

}  // namespace

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? int(hw) : 1;
}

TrainResult train_on(const config::RunConfig& run, const TrainOptions& opt, BatchSource& train, BatchSource* val) {
  const config::TrainConfig& tc = run.train;
  run.model.validate();
  validate_train(tc);
  if (tc.seq_len > run.model.max_seq_len)
    throw ConfigError(fmt::format("train.seq_len {} exceeds model.max_seq_len {}", tc.seq_len, run.model.max_seq_len));
  if (opt.run_dir.empty()) throw ConfigError("train: no run directory given");
  const auto t_start = Clock::now();
  const double cpu_start = cpu_seconds();

  const int threads = resolve_threads(tc.threads);
  at::set_num_threads(threads);
  const torch::Device device = parse_device(tc.device);
  const bool bf16 = tc.precision == "bf16";
  const int64_t total_steps = tc.steps(), accum = tc.accumulation();
  const double step_tokens = double(tc.global_batch_tokens);
  std::filesystem::create_directories(opt.run_dir);
  const std::string config_json = run.canonical_json();
  const std::string run_id = run.run_id();

  // --- model and optimizer (a resume overwrites both from the checkpoint) ---
  torch::manual_seed(tc.seed);
  arch::CausalLM model(run.model);
  model->reset_parameters(tc.seed);
  model->to(device);
  model->train();
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : model->named_parameters()) named.emplace_back(p.key(), p.value());
  AdamW optim(named, {tc.beta1, tc.beta2, tc.adam_eps, tc.weight_decay});
  const StepOptions step_opt{accum, tc.grad_clip, bf16, device.is_cuda()};
  const LrSchedule sched{tc.lr, tc.min_lr, tc.warmup_steps, total_steps};

  LoopState st;
  const auto resume_from = opt.resume ? latest_checkpoint(opt.run_dir) : std::nullopt;
  if (resume_from) st = load_checkpoint(*resume_from, model, optim, config_json);
  // In a log: a step line every log_every_steps (the series points' cadence) and a final one.
  ProgressOptions progress_opt;
  progress_opt.label = run.name.empty() ? run.preset : run.name;
  progress_opt.total = double(total_steps);
  progress_opt.unit = "steps";
  progress_opt.start = double(st.step);
  progress_opt.show_rate = false;  // the fields' tok/s, of the training steps alone
  progress_opt.enabled = opt.progress;
  progress_opt.line_every = double(tc.log_every_steps);
  progress_opt.line_every_s = 0;
  ProgressReporter progress(progress_opt);
  if (resume_from)
    progress.message(fmt::format("resumed from {} at step {} ({:.4g} tokens)", *resume_from, st.step, st.tokens));
  train.seek(st.data_cursor);
  arch::write_file_atomic(opt.run_dir + "/config.json", config_json + "\n");

  // Held-out micro-batches, read once: every validation scores the same rows.
  std::vector<torch::Tensor> val_rows;
  if (val && tc.val_batches > 0) {
    val->seek(0);
    for (int64_t i = 0; i < tc.val_batches; ++i) val_rows.push_back(to_tensor(val->next(tc.micro_batch), tc.seq_len, device));
  }
  auto validate = [&]() -> double {
    torch::NoGradGuard no_grad;
    AutocastScope ac(bf16, device.is_cuda());
    model->eval();
    double sum = 0;
    for (const auto& x : val_rows) {
      const int64_t T = x.size(1) - 1;
      sum += model->loss(x.narrow(1, 0, T), x.narrow(1, 1, T)).item<double>();
    }
    model->train();
    return sum / double(val_rows.size());
  };

  TrainResult res;
  std::vector<store::SeriesPoint> pending;  // train points since the last store write
  auto flush_series = [&] {
    if (opt.store && !pending.empty()) opt.store->add_series(run_id, pending);
    pending.clear();
  };
  auto run_validation = [&] {
    if (val_rows.empty()) return;
    st.last_val_loss = validate();
    progress.message(fmt::format("step {} | tok {:.4g} | val loss {:.4f} | val ppl {:.2f}", st.step, st.tokens,
                                 st.last_val_loss, std::exp(st.last_val_loss)));
    store::SeriesPoint p;
    p.split = "val";
    p.step = st.step;
    p.tokens = st.tokens;
    p.loss = st.last_val_loss;
    pending.push_back(p);
  };
  const double wall_before = st.wall_s, cpu_before = st.cpu_s;
  auto checkpoint = [&] {
    st.wall_s = wall_before + seconds_since(t_start);
    st.cpu_s = cpu_before + cpu_seconds() - cpu_start;
    res.final_checkpoint = save_checkpoint(opt.run_dir, model, optim, st, config_json);
    flush_series();
    progress.message(fmt::format("checkpoint {} (step {}, {:.4g} tokens, {:.2f} epochs)", res.final_checkpoint, st.step,
                                 st.tokens, st.epochs));
  };

  // --- the loop ---
  double window_tokens = 0, window_s = 0;
  std::string step_fields;  // the latest step's, for the final progress line
  bool saved_at_step = false;
  while (st.step < total_steps) {
    const auto t_step = Clock::now();
    const double lr = sched.at(st.step);
    const StepStats ss = train_step(
        model, optim, [&] { return to_tensor(train.next(tc.micro_batch), tc.seq_len, device); }, lr, step_opt);
    const double grad_norm = ss.grad_norm;

    const double before = st.tokens;
    ++st.step;
    st.tokens += step_tokens;
    st.data_cursor = train.cursor();
    st.epochs = train.epochs();
    st.last_loss = ss.loss;
    if (!std::isfinite(st.last_loss))
      throw std::runtime_error(fmt::format("train loss is {} at step {} (diverged)", st.last_loss, st.step));
    const double dt = seconds_since(t_step);
    st.train_s += dt;
    window_tokens += step_tokens;
    window_s += dt;

    const double tokens_per_s = window_tokens / window_s;
    step_fields = fmt::format("tok {:.3g}/{:.3g} | loss {:.4f} | lr {:.2e} | gnorm {:.3f} | {:.0f} tok/s | ep {:.2f}",
                              st.tokens, double(total_steps) * step_tokens, st.last_loss, lr, grad_norm, tokens_per_s,
                              st.epochs);
    progress.update(double(st.step), step_fields);
    if (st.step % tc.log_every_steps == 0 || st.step == total_steps) {
      pending.push_back({"train", st.step, st.tokens, st.last_loss, lr, grad_norm, tokens_per_s});
      window_tokens = window_s = 0;
      flush_series();
    }
    if (crossed(before, st.tokens, tc.val_every_tokens) || st.step == total_steps) run_validation();
    saved_at_step = false;
    if (crossed(before, st.tokens, tc.checkpoint_every_tokens) || st.step == total_steps) {
      checkpoint();
      saved_at_step = true;
    }
    // Tests of kill/resume: stop at the first scheduled checkpoint at or past stop_after_tokens
    // (or right there when no periodic checkpoints are scheduled).
    const bool periodic = tc.checkpoint_every_tokens > 0;
    if (opt.stop_after_tokens > 0 && st.tokens >= opt.stop_after_tokens && st.step < total_steps &&
        (saved_at_step || !periodic)) {
      if (!saved_at_step) checkpoint();
      progress.message(fmt::format("stopping early at {:.4g} tokens (stop_after_tokens)", st.tokens));
      break;
    }
  }
  progress.finish(double(st.step), step_fields);
  flush_series();
  st.wall_s = wall_before + seconds_since(t_start);
  st.cpu_s = cpu_before + cpu_seconds() - cpu_start;

  res.finished = st.step >= total_steps;
  res.steps = st.step;
  res.tokens = st.tokens;
  res.final_train_loss = st.last_loss;
  res.final_val_loss = st.last_val_loss;
  res.wall_s = st.wall_s;
  res.tokens_per_s = st.train_s > 0 ? st.tokens / st.train_s : 0;
  res.epochs = st.epochs;
  if (res.finished && res.final_checkpoint.empty()) {
    // Already finished before this call (resumed from the final checkpoint): nothing was trained.
    if (auto ck = latest_checkpoint(opt.run_dir)) res.final_checkpoint = *ck;
  }

  if (opt.store && res.finished) {
    const double train_flops = 3.0 * arch::forward_flops_per_token(run.model, tc.seq_len);
    const double peak = measured_matmul_flops(device, bf16);
    std::map<std::string, double> sc = {
        {"unique_params", double(arch::unique_params(run.model).total())},
        {"effective_params", double(arch::effective_params(run.model).total())},
        {"tokens", res.tokens},
        {"steps", double(res.steps)},
        {"wall_s", res.wall_s},
        {"peak_rss_bytes", peak_rss_bytes()},
        {"final_train_loss", res.final_train_loss},
        {"tokens_per_s", res.tokens_per_s},
        {"epochs", res.epochs},
        {"mfu", res.tokens_per_s * train_flops / peak},
        {"peak_matmul_flops", peak},
        {"threads", double(threads)},
    };
    if (device.is_cuda()) sc["gpu_hours"] = res.wall_s / 3600.0;
    else sc["cpu_hours"] = st.cpu_s / 3600.0;  // user + system CPU time, all processes of the run
    if (!val_rows.empty()) {
      sc["final_val_loss"] = res.final_val_loss;
      sc["val_ppl"] = std::exp(res.final_val_loss);
    }
    opt.store->put_scalars(run_id, sc);
  }
  return res;
}

}  // namespace sharelab::train
