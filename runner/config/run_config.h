// One fully resolved run: model + recipe + data + eval + profile settings. A sweep expands into
// RunConfigs; the runner trains, evaluates and profiles each. Every field is a TOML key (section
// `[model]`, `[train]`, `[data]`, `[eval]`, `[profile]`) and a `--set section.key=value` override.
// Defaults are the papers' recipe (MobiLlama Sec. 3.3 / LLaMA): AdamW 0.9/0.95, eps 1e-8, weight
// decay 0.1 (not on norms), peak LR 3e-4 cosine to 3e-5, 2000 warm-up steps, clip 1.0, seq 2048.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/model_spec.h"

namespace sharelab::config {

// Where the public benchmark files are looked for unless a run or `--tasks-dir` says otherwise:
// the shared folder beside the clone (README "Benchmark files").
inline constexpr const char* kDefaultTasksDir = "../shared/data";

struct TrainConfig {
  double lr = 3e-4;
  double min_lr = 3e-5;
  int64_t warmup_steps = 2000;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double adam_eps = 1e-8;
  double weight_decay = 0.1;  // applied to matrices and embeddings, not to norm weights
  double grad_clip = 1.0;
  int64_t seq_len = 2048;
  int64_t global_batch_tokens = 800 * 2048;  // MobiLlama: 800 sequences of 2048 per step
  int64_t micro_batch = 8;                   // rows per forward/backward; accumulation fills the rest
  double tokens = 120e9;                     // budget (tokens trained on)
  std::string precision = "bf16";            // "bf16" (autocast) or "fp32"
  uint64_t seed = 0;                         // initialisation and data order
  double checkpoint_every_tokens = 5e9;
  double val_every_tokens = 1e9;
  int64_t val_batches = 20;                  // micro-batches of held-out data per validation
  int64_t log_every_steps = 10;
  int threads = 0;                           // 0 = all cores
  std::string device = "cpu";                // "cpu" or "cuda" / "cuda:N"
  std::string init_from;                     // HF directory or weights file to start from ("": the seed's init)
  int64_t skip_nonfinite = 0;                // steps with a NaN/inf loss or gradient skipped before the run stops

  int64_t steps() const;                     // tokens / global_batch_tokens, rounded down
  int64_t accumulation() const;              // global_batch_tokens / (micro_batch x seq_len)
  // The step's shape on `world` data-parallel ranks; ConfigError when the batch's rows do not
  // divide among them.
  struct Shape;
  Shape shape(int world) const;
  int threads_or_cores() const;              // threads, or all cores when 0
};

// One optimizer step on `world` ranks: each rank runs `accum` micro-batches of `micro` rows, so
// micro x accum x world x seq_len = global_batch_tokens whatever the world size. micro is the
// largest row count <= train.micro_batch that divides the rank's share (micro_batch is a memory
// bound; the update is the same sum of per-row gradients at any split).
struct TrainConfig::Shape {
  int world = 1;
  int64_t micro = 0;
  int64_t accum = 0;
};

struct DataConfig {
  std::string dir;        // prepared shards (runner data prepare); created from `mix` if absent
  std::string mix;        // data-mix TOML used to prepare `dir`
  std::string tokenizer;  // SentencePiece model; "" = train one per the mix file
};

struct EvalConfig {
  std::vector<std::string> tasks;  // empty = no evaluation
  int64_t limit = 0;               // examples per task, 0 = all
  std::string protocol = "mobilellm";  // "mobilellm" (all 0-shot) or "leaderboard-v1"
  std::string tasks_dir = kDefaultTasksDir;
  int64_t batch = 8;
};

struct ProfileConfig {
  bool enabled = false;
  int64_t batch = 1;
  int64_t seq = 2048;
  int64_t warmup = 2;
  int64_t repeats = 10;
  std::vector<std::string> dtypes = {"fp32", "bf16"};
};

struct RunConfig {
  std::string sweep;   // sweep name ([meta] name)
  std::string name;    // run name within the sweep (unique)
  std::string preset;  // registry preset the model started from
  std::string scale;   // scale applied (configs/scales/: "paper", "cpu", "smoke", ...)
  arch::ModelSpec model;
  TrainConfig train;
  DataConfig data;
  EvalConfig eval;
  ProfileConfig profile;

  std::string canonical_json() const;  // sorted keys, every field: stored in the DB
  std::string run_id() const;          // stable_hash of canonical_json (16 hex digits)
  // What sets training throughput: model geometry, sequence, micro-batch, precision, device, threads.
  std::string geometry_key() const;
};

}  // namespace sharelab::config
