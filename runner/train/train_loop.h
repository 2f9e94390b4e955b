// The training loop proper, over an abstract source of token rows: train_run() feeds it the
// prepared shards (data::ShardLoader); tests feed it small in-memory corpora. Everything the
// recipe decides (AdamW groups, schedule, clipping, accumulation, autocast, validation,
// checkpoints, resume, store writes) happens here, once.
#pragma once

#include <cstdint>
#include <vector>

#include "runner/data/loader.h"
#include "runner/train/trainer.h"

namespace sharelab::train {

// A deterministic, seekable stream of rows (seq_len + 1 tokens each).
struct BatchSource {
  virtual ~BatchSource() = default;
  virtual data::TokenBatch next(int64_t rows) = 0;
  virtual uint64_t cursor() const = 0;
  virtual void seek(uint64_t cursor) = 0;
  virtual double epochs() const = 0;  // passes over the data so far
};

// `val` may be null (no validation). Same contract as train_run.
TrainResult train_on(const config::RunConfig& run, const TrainOptions& opt, BatchSource& train, BatchSource* val);

}  // namespace sharelab::train
