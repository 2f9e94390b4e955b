// A run's model, optimizer and loop state. Shapes: R rows per micro-batch (train.micro_batch),
// T = train.seq_len.
#include "runner/train/train_session.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/stop_signal.h"
#include "common/threads.h"
#include "arch/h5_tensors.h"
#include "arch/weights.h"
#include "common/errors.h"
#include "kernels/torch_compat.h"
#include "runner/interop/hf_dir.h"
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

// train.threads = 0: the cores shared among this node's ranks.
int use_threads(int threads, int local_world) {
  const int n = threads > 0 ? threads : std::max(1, threads_or_cores(0) / std::max(1, local_world));
  at::set_num_threads(n);
  return n;
}

// The run's model, initialised from its seed or train.init_from (a resume then overwrites the weights).
arch::CausalLM build_model(const config::RunConfig& run, const torch::Device& device) {
  torch::manual_seed(run.train.seed);
  arch::CausalLM model(run.model);
  model->reset_parameters(run.train.seed);
  if (!run.train.init_from.empty()) load_init_weights(model, run.train.init_from);
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

// A loss or norm for a message: "nan" whatever its sign bit.
std::string value_text(double v) { return std::isnan(v) ? "nan" : fmt::format("{}", v); }

// SHARELAB_FAULT_NONFINITE=STEP[,STEP...]: the steps whose loss the tests make infinite.
std::set<int64_t> fault_steps() {
  std::set<int64_t> out;
  const char* env = std::getenv("SHARELAB_FAULT_NONFINITE");
  if (!env || !*env) return out;
  std::string text = env;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    char* rest = nullptr;
    const long long v = std::strtoll(item.c_str(), &rest, 10);
    if (item.empty() || *rest != '\0' || v < 1)
      throw ConfigError("SHARELAB_FAULT_NONFINITE='" + text + "': expected step numbers >= 1 separated by commas");
    out.insert(v);
    pos = end + 1;
  }
  return out;
}

}  // namespace

void load_init_weights(arch::CausalLM& model, const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    auto src = interop::load_hf_dir(path);
    arch::load_hf_state(model, arch::hf_state(src), path);
  } else {
    arch::load_weights(model, path);
  }
}

TrainSession::TrainSession(const config::RunConfig& run, const TrainOptions& opt, BatchSource& train, BatchSource* val)
    : run_(checked(run, opt)),
      opt_(opt),
      comm_(opt.comm),
      shape_(run.train.shape(comm_ ? comm_->world() : 1)),
      train_(train),
      t_start_(Clock::now()),
      cpu_start_(cpu_seconds()),
      threads_(use_threads(run.train.threads, comm_ ? comm_->env().local_world : 1)),
      device_(kernels::compat::resolve_device(run.train.device, "train.device")),
      bf16_(run.train.precision == "bf16"),
      total_steps_(run.train.steps()),
      step_tokens_(double(run.train.global_batch_tokens)),
      config_json_(run.canonical_json()),
      model_(build_model(run, device_)),
      optim_(named_parameters(model_), {run.train.beta1, run.train.beta2, run.train.adam_eps, run.train.weight_decay}),
      step_opt_{shape_.accum, run.train.grad_clip, bf16_, device_.is_cuda()},
      sched_{run.train.lr, run.train.min_lr, run.train.warmup_steps, total_steps_} {
  if (device_.is_cuda()) kernels::compat::reset_cuda_memory_peak(device_);  // this run's peak, not the process's
  if (comm_ && comm_->device().type() != device_.type())
    throw ConfigError(fmt::format("train.device '{}': the data-parallel job was started on {}", run.train.device,
                                  comm_->device().str()));
  std::filesystem::create_directories(opt.run_dir);
  if (opt.resume) resumed_from_ = latest_checkpoint(opt.run_dir);
  if (resumed_from_) state_ = load_checkpoint(*resumed_from_, model_, optim_, config_json_);
  fault_steps_ = fault_steps();
  wall_before_ = state_.wall_s;
  cpu_before_ = state_.cpu_s;
  train_.seek(state_.data_cursor);
  if (speaks()) arch::write_file_atomic(opt.run_dir + "/config.json", config_json_ + "\n");
  if (val && run.train.val_batches > 0) {
    val->seek(0);  // the same rows on every rank and world size; validate() splits the scoring
    for (int64_t i = 0; i < run.train.val_batches; ++i) val_rows_.push_back(next_rows(*val, run.train.micro_batch));
  }
  if (comm_) {
    check_same_weights();
    std::vector<torch::Tensor> params;
    for (const auto& s : optim_.slots()) params.push_back(s.param);
    reducer_ = std::make_unique<dist::GradReducer>(*comm_, params, opt.bucket_bytes > 0 ? opt.bucket_bytes : dist::kBucketBytes);
  }
}

torch::Tensor TrainSession::next_rows(BatchSource& src, int64_t rows) {
  return to_tensor(src.next(rows), run_.train.seq_len, device_);
}

// This rank's slice of the next global micro-batch (world x micro rows at the global cursor): the
// rows one process would read with world x micro rows per micro-batch, split in rank order.
torch::Tensor TrainSession::next_train_rows() {
  const uint64_t m = uint64_t(shape_.micro), rank = comm_ ? uint64_t(comm_->rank()) : 0;
  // SHARELAB_ROW_TRACE=PREFIX: each rank appends "first count" of the global rows it trains on to
  // PREFIX.rank<r>, to check the data order across resumes and world sizes (tests/cli/dist_train.sh).
  static const char* trace = std::getenv("SHARELAB_ROW_TRACE");
  if (trace && *trace) {
    std::ofstream(fmt::format("{}.rank{}", trace, rank), std::ios::app) << state_.data_cursor + rank * m << " " << m
                                                                          << "\n";
  }
  train_.seek(state_.data_cursor + rank * m);
  state_.data_cursor += uint64_t(shape_.world) * m;
  return next_rows(train_, shape_.micro);
}

// Same seed, same weights: checked, since a rank that differed would train a different model
// without any error. The digest hashes the parameters' bits (no floating-point sum, whose result
// would depend on the thread count), 62 bits so that the int64 all-reduce of one slot per rank
// cannot overflow.
void TrainSession::check_same_weights() {
  torch::NoGradGuard no_grad;
  uint64_t h = 14695981039346656037ull;
  for (const auto& s : optim_.slots()) {
    const auto p = s.param.detach().to(torch::kCPU).contiguous();
    const auto* w = static_cast<const uint32_t*>(p.data_ptr());
    const int64_t n = p.numel() * int64_t(p.element_size()) / 4;
    for (int64_t i = 0; i < n; ++i) h = (h ^ w[i]) * 1099511628211ull;
  }
  auto all = torch::zeros({comm_->world()}, torch::TensorOptions().dtype(torch::kInt64).device(device_));
  all[comm_->rank()] = int64_t(h >> 2);
  comm_->allreduce_sum(all, "weight check");
  const auto a = all.cpu();
  std::vector<int> differ;
  for (int r = 1; r < comm_->world(); ++r)
    if (a[r].item<int64_t>() != a[0].item<int64_t>()) differ.push_back(r);
  if (!differ.empty())
    throw std::runtime_error(fmt::format("data parallel: the weights of rank(s) {} differ from rank 0's after {} "
                                         "(same seed {} everywhere; different LibTorch builds?)",
                                         fmt::join(differ, ", "), resumed_from_ ? "resume" : "initialisation",
                                         run_.train.seed));
}

double TrainSession::job_sum(double v, const char* what) {
  if (!comm_) return v;
  auto t = torch::tensor({v}, torch::TensorOptions().dtype(torch::kFloat64)).to(device_);
  comm_->allreduce_sum(t, what);
  return t.item<double>();
}

StepReport TrainSession::step() {
  const auto t0 = Clock::now();
  StepReport r;
  r.lr = sched_.at(state_.step);
  StepOptions so = step_opt_;
  so.poison = fault_steps_.count(state_.step + 1) > 0;
  so.gate = [&](StepStats& ss) {
    r.stop = stop_requested();
    if (comm_) {
      // The job's mean loss, whether any rank was asked to stop and whether any rank's loss or
      // gradient is not finite, in one small all-reduce: every rank makes the same decision.
      auto t = torch::tensor({ss.loss, r.stop ? 1.0 : 0.0, ss.finite ? 0.0 : 1.0},
                             torch::TensorOptions().dtype(torch::kFloat64))
                   .to(device_);
      comm_->allreduce_sum(t, "loss all-reduce");
      const auto c = t.cpu();
      ss.loss = c[0].item<double>() / double(comm_->world());
      r.stop = c[1].item<double>() > 0;
      ss.finite = c[2].item<double>() == 0;
    }
    return ss.finite;
  };
  StepStats ss = train_step(model_, optim_, [&] { return next_train_rows(); }, r.lr, so, reducer_.get());
  if (!ss.updated) {  // non-finite: the weights and the optimizer state are as before the step
    if (state_.nonfinite_skipped >= run_.train.skip_nonfinite) stop_nonfinite(ss);
    ++state_.nonfinite_skipped;
    r.skipped = true;
    if (opt_.store && speaks())
      opt_.store->put_scalars(run_.run_id(), {{"nonfinite_skipped_steps", double(state_.nonfinite_skipped)}});
  }
  r.loss = ss.loss;
  r.grad_norm = ss.grad_norm;
  r.tokens_before = state_.tokens;
  ++state_.step;
  state_.tokens += step_tokens_;
  train_.seek(state_.data_cursor);  // the global cursor (next_train_rows advanced it)
  const double epochs_before = state_.epochs;
  state_.epochs = train_.epochs();
  if (std::floor(state_.epochs) > std::floor(epochs_before) && speaks())  // repeats are never silent
    std::cerr << fmt::format("data: train split: pass {} over the data begins (step {}, global row {}); rows repeat\n",
                             int64_t(std::floor(state_.epochs)) + 1, state_.step, state_.data_cursor);
  if (!r.skipped) state_.last_loss = ss.loss;  // no NaN in the loop state, the series or a checkpoint
  kernels::compat::synchronize(device_);  // CUDA: the optimizer's kernels are still queued
  r.seconds = seconds_since(t0);
  state_.train_s += r.seconds;
  return r;
}

void TrainSession::stop_nonfinite(const StepStats& ss) {
  std::string last_good = "none (no checkpoint written yet)";
  try {
    if (const auto ck = latest_checkpoint(opt_.run_dir)) last_good = *ck;
  } catch (const std::exception&) {
  }
  const int64_t n = run_.train.skip_nonfinite;
  const std::string budget = n == 0 ? "train.skip_nonfinite = 0 skips none"
                                    : fmt::format("{} skipped already, train.skip_nonfinite = {}", n, n);
  throw std::runtime_error(fmt::format(
      "run {} ('{}'): step {}: loss {} and gradient norm {} are not all finite; stopped before updating the weights "
      "({}); the last good checkpoint is {}",
      run_.run_id(), run_.name.empty() ? run_.preset : run_.name, state_.step + 1, value_text(ss.loss),
      value_text(ss.grad_norm), budget,
      last_good));
}

double TrainSession::validate() {
  torch::NoGradGuard no_grad;
  kernels::compat::AutocastGuard ac(bf16_, device_.type());
  model_->eval();
  double sum = 0;
  const size_t rank = comm_ ? size_t(comm_->rank()) : 0, world = comm_ ? size_t(comm_->world()) : 1;
  for (size_t i = rank; i < val_rows_.size(); i += world) {  // this rank's share of the held-out rows
    const auto& x = val_rows_[i];
    const int64_t T = x.size(1) - 1;
    sum += model_->loss(x.narrow(1, 0, T), x.narrow(1, 1, T)).item<double>();
  }
  model_->train();
  state_.last_val_loss = job_sum(sum, "validation all-reduce") / double(val_rows_.size());
  return state_.last_val_loss;
}

std::string TrainSession::save_checkpoint() {
  stop_clock();
  if (!comm_) return train::save_checkpoint(opt_.run_dir, model_, optim_, state_, config_json_);
  // Rank 0 writes; the others wait for its outcome (a failed write, a full disk say, ends every
  // rank at this same point instead of leaving them in different collectives).
  std::string path, error;
  if (speaks()) {
    try {
      path = train::save_checkpoint(opt_.run_dir, model_, optim_, state_, config_json_);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  if (job_sum(error.empty() ? 0 : 1, "checkpoint") > 0)
    throw std::runtime_error(speaks() ? error : "rank 0 could not write the checkpoint (its error says why)");
  return path;
}

void TrainSession::stop_clock() {
  state_.wall_s = wall_before_ + seconds_since(t_start_);
  state_.cpu_s = cpu_before_ + job_sum(cpu_seconds() - cpu_start_, "CPU time all-reduce");
}

}  // namespace sharelab::train
