// train_run: the prepared shards (data::ShardLoader) as the loop's batch sources.
#include "runner/train/trainer.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "common/errors.h"
#include "kernels/torch_compat.h"
#include "runner/data/loader.h"
#include "runner/data/manifest.h"
#include "runner/dist/comm.h"
#include "runner/interop/hf_dir.h"
#include "runner/train/train_loop.h"
#include "runner/train/train_session.h"

namespace sharelab::train {

namespace {

class ShardSource : public BatchSource {
 public:
  ShardSource(const std::string& dir, const std::string& split, const data::LoaderOptions& o) : loader_(dir, split, o) {}
  data::TokenBatch next(int64_t rows) override { return loader_.next(rows); }
  uint64_t cursor() const override { return loader_.cursor(); }
  void seek(uint64_t cursor) override { loader_.seek(cursor); }
  double epochs() const override { return loader_.epochs(); }
  data::ShardLoader& loader() { return loader_; }

 private:
  data::ShardLoader loader_;
};

bool wants_validation(const config::RunConfig& run) {
  return run.train.val_batches > 0 && run.train.val_every_tokens > 0;
}

// One global stream of rows: each data-parallel rank takes its slice of every micro-batch
// (TrainSession), so the order and the checkpoint's cursor do not depend on the world size.
data::LoaderOptions loader_options(const config::RunConfig& run) {
  data::LoaderOptions lo{run.train.seed, /*rank=*/0, /*world_size=*/1, run.train.seq_len};
  lo.log_epochs = false;
  return lo;
}

}  // namespace

void check_run_inputs(const config::RunConfig& run, int world) {
  (void)kernels::compat::resolve_device(run.train.device, "train.device");
  (void)run.train.shape(world);
  if (run.data.dir.empty()) throw ConfigError("data.dir is empty: prepare shards with `runner data prepare` first");
  const std::string& init = run.train.init_from;
  if (!init.empty() && !std::filesystem::is_regular_file(init) && !interop::is_hf_dir(init))
    throw ConfigError("train.init_from = '" + init + "': neither an HF model directory (config.json + "
                      "model.safetensors) nor a weights file (runner export --out)");
  if (!init.empty()) {  // a source that does not fit the model is refused before any run row
    arch::CausalLM probe(run.model);
    load_init_weights(probe, init);
  }
  const data::Manifest m = data::Manifest::load(run.data.dir);
  if (m.vocab_size > run.model.vocab_size)
    throw ConfigError(fmt::format("{}: data vocab_size {} exceeds model.vocab_size {}", run.data.dir, m.vocab_size,
                                  run.model.vocab_size));
  // A run that asks for validation and cannot have it would fill the tables with `missing`.
  if (wants_validation(run) && m.total_tokens(data::kVal) == 0)
    throw ConfigError(fmt::format(
        "{}: no validation rows, but train.val_batches = {}: prepare with a larger val_fraction or smaller "
        "chunk_bytes, or set train.val_batches = 0 to train without validation",
        run.data.dir, run.train.val_batches));
  // The shards themselves (present, readable, the manifest's shape and dtype), as train_run opens them.
  data::check_split(run.data.dir, "train", loader_options(run));
  if (wants_validation(run)) data::check_split(run.data.dir, "val", loader_options(run));
}

TrainResult train_run(const config::RunConfig& run, const TrainOptions& opt) {
  check_run_inputs(run, opt.comm ? opt.comm->world() : 1);
  // log_epochs off: the slices seek; TrainSession::step says when a pass begins again.
  data::LoaderOptions lo = loader_options(run);
  ShardSource train(run.data.dir, "train", lo);
  std::unique_ptr<ShardSource> val;
  lo.log_epochs = !opt.comm || opt.comm->rank() == 0;
  if (wants_validation(run)) val = std::make_unique<ShardSource>(run.data.dir, "val", lo);
  return train_on(run, opt, train, val.get());
}

}  // namespace sharelab::train
