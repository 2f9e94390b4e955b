// Semantic validation of config::TrainConfig.
#include "runner/train/validate_train.h"

#include <sstream>

#include "common/errors.h"

namespace sharelab::train {

namespace {

using config::TrainConfig;

std::string num(double v) {
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}

}  // namespace

void validate_train(const TrainConfig& t) {
  auto fail = [](const std::string& what) { throw ConfigError("train." + what); };
  if (!(t.lr > 0)) fail("lr " + num(t.lr) + " must be positive");
  if (t.min_lr < 0 || t.min_lr > t.lr) fail("min_lr " + num(t.min_lr) + " must lie in [0, train.lr = " + num(t.lr) + "]");
  if (t.warmup_steps < 0) fail("warmup_steps " + std::to_string(t.warmup_steps) + " must be >= 0");
  if (t.beta1 < 0 || t.beta1 >= 1) fail("beta1 " + num(t.beta1) + " must lie in [0, 1)");
  if (t.beta2 < 0 || t.beta2 >= 1) fail("beta2 " + num(t.beta2) + " must lie in [0, 1)");
  if (!(t.adam_eps > 0)) fail("adam_eps " + num(t.adam_eps) + " must be positive");
  if (t.weight_decay < 0) fail("weight_decay " + num(t.weight_decay) + " must be >= 0");
  if (t.grad_clip < 0) fail("grad_clip " + num(t.grad_clip) + " must be >= 0 (0 = off)");
  if (t.seq_len <= 0) fail("seq_len " + std::to_string(t.seq_len) + " must be positive");
  if (t.micro_batch <= 0) fail("micro_batch " + std::to_string(t.micro_batch) + " must be positive");
  const int64_t rows_tokens = t.micro_batch * t.seq_len;
  if (t.global_batch_tokens <= 0 || t.global_batch_tokens % rows_tokens != 0)
    fail("global_batch_tokens " + std::to_string(t.global_batch_tokens) +
         " is not a positive multiple of train.micro_batch x train.seq_len = " + std::to_string(t.micro_batch) + " x " +
         std::to_string(t.seq_len) + " = " + std::to_string(rows_tokens));
  if (t.tokens < double(t.global_batch_tokens))
    fail("tokens " + num(t.tokens) + " is less than one step (train.global_batch_tokens = " +
         std::to_string(t.global_batch_tokens) + ")");
  if (t.precision != "bf16" && t.precision != "fp32") fail("precision '" + t.precision + "' must be bf16 or fp32");
  if (t.device != "cpu" && t.device.rfind("cuda", 0) != 0) fail("device '" + t.device + "' must be cpu, cuda or cuda:N");
  if (t.checkpoint_every_tokens < 0) fail("checkpoint_every_tokens " + num(t.checkpoint_every_tokens) + " must be >= 0");
  if (t.val_every_tokens < 0) fail("val_every_tokens " + num(t.val_every_tokens) + " must be >= 0");
  if (t.val_batches < 0) fail("val_batches " + std::to_string(t.val_batches) + " must be >= 0");
  if (t.log_every_steps <= 0) fail("log_every_steps " + std::to_string(t.log_every_steps) + " must be positive");
  if (t.skip_nonfinite < 0)
    fail("skip_nonfinite " + std::to_string(t.skip_nonfinite) +
         " must be an integer >= 0 (steps with a non-finite loss or gradient skipped before the run stops)");
  if (t.threads < 0) fail("threads " + std::to_string(t.threads) + " must be >= 0 (0 = all cores)");
}

}  // namespace sharelab::train
