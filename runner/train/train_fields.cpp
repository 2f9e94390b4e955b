// Field table and validation for sweep::TrainConfig.
#include "runner/train/train_fields.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "arch/errors.h"

namespace sharelab::train {

namespace {

using sweep::TrainConfig;

std::string num(double v) {
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}

[[noreturn]] void bad(const std::string& key, const std::string& value, const char* expected) {
  throw ConfigError("train key '" + key + "': '" + value + "' is not " + expected);
}

// Integers also in float notation ("1e6") when exact, as model keys accept them.
long long parse_int(const std::string& key, const std::string& value) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (end == value.c_str() || *end != '\0' || errno) {
    double d = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0' || d != std::floor(d) || std::fabs(d) > 9e15) bad(key, value, "an integer");
    v = static_cast<long long>(d);
  }
  return v;
}

double parse_float(const std::string& key, const std::string& value) {
  char* end = nullptr;
  double d = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || *end != '\0' || !std::isfinite(d)) bad(key, value, "a number");
  return d;
}

struct Field {
  arch::FieldInfo info;
  std::function<void(TrainConfig&, const std::string& key, const std::string& value)> set;
  std::function<std::string(const TrainConfig&)> get;
};

template <class T>
Field int_field(const char* key, T TrainConfig::*m, const char* help) {
  return {{key, arch::FieldType::kInt, help},
          [m](TrainConfig& t, const std::string& k, const std::string& v) {
            long long x = parse_int(k, v);
            if (std::is_unsigned<T>::value && x < 0) bad(k, v, "a non-negative integer");
            t.*m = static_cast<T>(x);
          },
          [m](const TrainConfig& t) { return std::to_string(t.*m); }};
}

Field float_field(const char* key, double TrainConfig::*m, const char* help) {
  return {{key, arch::FieldType::kFloat, help},
          [m](TrainConfig& t, const std::string& k, const std::string& v) { t.*m = parse_float(k, v); },
          [m](const TrainConfig& t) { return num(t.*m); }};
}

Field string_field(const char* key, std::string TrainConfig::*m, const char* help) {
  return {{key, arch::FieldType::kString, help},
          [m](TrainConfig& t, const std::string& k, const std::string& v) {
            if (v.empty()) bad(k, v, "a non-empty string");
            t.*m = v;
          },
          [m](const TrainConfig& t) { return t.*m; }};
}

const std::vector<Field>& table() {
  static const std::vector<Field> t = {
      float_field("lr", &TrainConfig::lr, "peak learning rate"),
      float_field("min_lr", &TrainConfig::min_lr, "learning rate at the end of the cosine"),
      int_field("warmup_steps", &TrainConfig::warmup_steps, "linear warm-up steps"),
      float_field("beta1", &TrainConfig::beta1, "AdamW beta1"),
      float_field("beta2", &TrainConfig::beta2, "AdamW beta2"),
      float_field("adam_eps", &TrainConfig::adam_eps, "AdamW epsilon"),
      float_field("weight_decay", &TrainConfig::weight_decay, "decoupled weight decay (not on norms)"),
      float_field("grad_clip", &TrainConfig::grad_clip, "global gradient-norm clip (0 = off)"),
      int_field("seq_len", &TrainConfig::seq_len, "tokens predicted per row"),
      int_field("global_batch_tokens", &TrainConfig::global_batch_tokens, "tokens per optimizer step"),
      int_field("micro_batch", &TrainConfig::micro_batch, "rows per forward/backward"),
      float_field("tokens", &TrainConfig::tokens, "token budget"),
      string_field("precision", &TrainConfig::precision, "bf16 (autocast) or fp32"),
      int_field("seed", &TrainConfig::seed, "initialisation and data order"),
      float_field("checkpoint_every_tokens", &TrainConfig::checkpoint_every_tokens, "checkpoint interval"),
      float_field("val_every_tokens", &TrainConfig::val_every_tokens, "validation interval"),
      int_field("val_batches", &TrainConfig::val_batches, "held-out micro-batches per validation"),
      int_field("log_every_steps", &TrainConfig::log_every_steps, "steps between log lines / series points"),
      int_field("threads", &TrainConfig::threads, "intra-op threads (0 = all cores)"),
      string_field("device", &TrainConfig::device, "cpu, cuda or cuda:N"),
  };
  return t;
}

const Field& find(const std::string& key) {
  for (const auto& f : table())
    if (key == f.info.key) return f;
  throw ConfigError("unknown train key '" + key + "'; known: " + train_field_names());
}

}  // namespace

const std::vector<arch::FieldInfo>& train_fields() {
  static const std::vector<arch::FieldInfo> infos = [] {
    std::vector<arch::FieldInfo> v;
    for (const auto& f : table()) v.push_back(f.info);
    return v;
  }();
  return infos;
}

std::string train_field_names() {
  std::string out;
  for (const auto& f : table()) out += (out.empty() ? "" : ", ") + std::string(f.info.key);
  return out;
}

void set_train_field(TrainConfig& t, const std::string& key, const std::string& value) {
  find(key).set(t, key, value);
}

std::string get_train_field(const TrainConfig& t, const std::string& key) { return find(key).get(t); }

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
  if (t.threads < 0) fail("threads " + std::to_string(t.threads) + " must be >= 0 (0 = all cores)");
}

int64_t train_steps(const TrainConfig& t) { return int64_t(t.tokens / double(t.global_batch_tokens)); }

int64_t accumulation_steps(const TrainConfig& t) { return t.global_batch_tokens / (t.micro_batch * t.seq_len); }

}  // namespace sharelab::train
