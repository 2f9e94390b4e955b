// A run's model, optimizer and loop state. Shapes: R rows per micro-batch (train.micro_batch),
// T = train.seq_len.
#include "runner/train/train_session.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <cmath>
#include <filesystem>

#include "common/threads.h"
#include "arch/h5_tensors.h"
#include "common/errors.h"
#include "kernels/torch_compat.h"
#include "runner/train/validate_train.h"

namespace sharelab::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

const config::RunConfig& checked(const config::RunConfig& run, const TrainOptions& opt) {
  run.model.validate();
  validate_train(run.train);
  if (run.train.seq_len > run.model.max_seq_len)
    throw ConfigError(
        fmt::format("train.seq_len {} exceeds model.max_seq_len {}", run.train.seq_len, run.model.max_seq_len));
  if (opt.run_dir.empty()) throw ConfigError("train: no run directory given");
  return run;
}

int use_threads(int threads) {
  const int n = threads_or_cores(threads);
  at::set_num_threads(n);
  return n;
}

// The run's model, initialised from its seed (a resume then overwrites the weights).
arch::CausalLM build_model(const config::RunConfig& run, const torch::Device& device) {
  torch::manual_seed(run.train.seed);
  arch::CausalLM model(run.model);
  model->reset_parameters(run.train.seed);
  model->to(device);
  model->train();
  return model;
}

std::vector<std::pair<std::string, torch::Tensor>> named_parameters(arch::CausalLM& model) {
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : model->named_parameters()) named.emplace_back(p.key(), p.value());
  return named;
}

// Rows (R, T + 1) int32 -> int64 on the device, a copy (b's buffer is reused). To CUDA: int32
// through pinned memory with a non-blocking copy (half the bytes of int64), widened there.
torch::Tensor to_tensor(const data::TokenBatch& b, int64_t seq_len, const torch::Device& device) {
  if (b.cols != seq_len + 1)
    throw ConfigError(fmt::format("data rows hold {} tokens but train.seq_len = {} needs {}", b.cols, seq_len, seq_len + 1));
  auto t = torch::from_blob(const_cast<int32_t*>(b.tokens.data()), {b.rows, b.cols}, torch::kInt32);
  return kernels::compat::to_device(t, device).to(torch::kInt64);  // (R, T + 1)
}

}  // namespace

TrainSession::TrainSession(const config::RunConfig& run, const TrainOptions& opt, BatchSource& train, BatchSource* val)
    : run_(checked(run, opt)),
      opt_(opt),
      train_(train),
      t_start_(Clock::now()),
      cpu_start_(cpu_seconds()),
      threads_(use_threads(run.train.threads)),
      device_(kernels::compat::resolve_device(run.train.device, "train.device")),
      bf16_(run.train.precision == "bf16"),
      total_steps_(run.train.steps()),
      step_tokens_(double(run.train.global_batch_tokens)),
      config_json_(run.canonical_json()),
      model_(build_model(run, device_)),
      optim_(named_parameters(model_), {run.train.beta1, run.train.beta2, run.train.adam_eps, run.train.weight_decay}),
      step_opt_{run.train.accumulation(), run.train.grad_clip, bf16_, device_.is_cuda()},
      sched_{run.train.lr, run.train.min_lr, run.train.warmup_steps, total_steps_} {
  if (device_.is_cuda()) kernels::compat::reset_cuda_memory_peak(device_);  // this run's peak, not the process's
  std::filesystem::create_directories(opt.run_dir);
  if (opt.resume) resumed_from_ = latest_checkpoint(opt.run_dir);
  if (resumed_from_) state_ = load_checkpoint(*resumed_from_, model_, optim_, config_json_);
  wall_before_ = state_.wall_s;
  cpu_before_ = state_.cpu_s;
  train_.seek(state_.data_cursor);
  arch::write_file_atomic(opt.run_dir + "/config.json", config_json_ + "\n");
  if (val && run.train.val_batches > 0) {
    val->seek(0);
    for (int64_t i = 0; i < run.train.val_batches; ++i) val_rows_.push_back(next_rows(*val));
  }
}

torch::Tensor TrainSession::next_rows(BatchSource& src) {
  return to_tensor(src.next(run_.train.micro_batch), run_.train.seq_len, device_);
}

StepReport TrainSession::step() {
  const auto t0 = Clock::now();
  StepReport r;
  r.lr = sched_.at(state_.step);
  const StepStats ss = train_step(model_, optim_, [&] { return next_rows(train_); }, r.lr, step_opt_);
  r.loss = ss.loss;
  r.grad_norm = ss.grad_norm;
  r.tokens_before = state_.tokens;
  ++state_.step;
  state_.tokens += step_tokens_;
  state_.data_cursor = train_.cursor();
  state_.epochs = train_.epochs();
  state_.last_loss = ss.loss;
  kernels::compat::synchronize(device_);  // CUDA: the optimizer's kernels are still queued
  if (!std::isfinite(ss.loss))
    throw std::runtime_error(fmt::format("train loss is {} at step {} (diverged)", ss.loss, state_.step));
  r.seconds = seconds_since(t0);
  state_.train_s += r.seconds;
  return r;
}

double TrainSession::validate() {
  torch::NoGradGuard no_grad;
  kernels::compat::AutocastGuard ac(bf16_, device_.type());
  model_->eval();
  double sum = 0;
  for (const auto& x : val_rows_) {
    const int64_t T = x.size(1) - 1;
    sum += model_->loss(x.narrow(1, 0, T), x.narrow(1, 1, T)).item<double>();
  }
  model_->train();
  state_.last_val_loss = sum / double(val_rows_.size());
  return state_.last_val_loss;
}

std::string TrainSession::save_checkpoint() {
  stop_clock();
  return train::save_checkpoint(opt_.run_dir, model_, optim_, state_, config_json_);
}

void TrainSession::stop_clock() {
  state_.wall_s = wall_before_ + seconds_since(t_start_);
  state_.cpu_s = cpu_before_ + cpu_seconds() - cpu_start_;
}

}  // namespace sharelab::train
