// train_run end to end on real shards: tiny-shakespeare bytes packed as rows of byte ids (written
// with the data part's ShardWriter), trained past one epoch (repetition reported), validated,
// recorded in a results database, and resumed bit-exactly through the real ShardLoader.
#include <doctest/doctest.h>

#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "arch/registry.h"
#include "arch/h5_tensors.h"
#include "runner/data/manifest.h"
#include "runner/data/shard_file.h"
#include "runner/config/run_row.h"
#include "runner/store/results_store.h"
#include "runner/train/trainer.h"

#include "train_test_util.h"

using namespace sharelab;
namespace fs = std::filesystem;

namespace {

const std::string kShakespeare = std::string(SHARELAB_SOURCE_DIR) + "/../shared/data/tinyshakespeare/input.txt";

using test::TempDir;
using test::write_shards;

// A prepared data folder as `runner data prepare` leaves it (ShardWriter shards + manifest.json):
// `rows` rows of 33 byte ids (seq_len 32) cut from the start of tiny-shakespeare, every 10th row
// held out for validation. (Written through the data part's writer rather than `prepare_data`:
// its hash split of Amber rows currently puts every row of a small file into train.)
std::string prepare_shards(const std::string& root, int rows, bool hold_out = true) {
  std::ifstream in(kShakespeare, std::ios::binary);
  REQUIRE_MESSAGE(in, kShakespeare);
  std::string text(size_t(rows) * 33, '\0');
  in.read(&text[0], std::streamsize(text.size()));
  return write_shards(root, "shakespeare", rows, hold_out,
                      [&](int r, int k) { return uint32_t(static_cast<unsigned char>(text[size_t(r) * 33 + size_t(k)])); });
}

config::RunConfig shakespeare_run(const std::string& data_dir) {
  config::RunConfig rc;
  rc.sweep = "test";
  rc.name = "shakespeare";
  rc.preset = "debug";
  rc.scale = "smoke";
  rc.model = arch::resolve_preset("debug", {"scheme=shared-ffn"});
  rc.data.dir = data_dir;
  auto& t = rc.train;
  t.seq_len = 32;
  t.micro_batch = 4;
  t.global_batch_tokens = 2 * 4 * 32;  // accumulation 2
  t.tokens = 60 * t.global_batch_tokens;
  t.lr = 3e-3;
  t.min_lr = 3e-4;
  t.warmup_steps = 5;
  t.checkpoint_every_tokens = 20 * t.global_batch_tokens;
  t.val_every_tokens = 20 * t.global_batch_tokens;
  t.val_batches = 3;
  t.log_every_steps = 10;
  t.threads = 1;
  return rc;
}

}  // namespace

TEST_CASE("train_run on prepared shards: learns, repeats data visibly, records the run") {
  TempDir root("train_shards");
  const config::RunConfig rc = shakespeare_run(prepare_shards(root.path, 300));
  store::ResultsStore db(root.path + "/results.db");
  db.begin_run(config::make_run_row(rc));

  train::TrainOptions opt;
  opt.run_dir = root.path + "/run";
  opt.store = &db;
  const auto r = train::train_run(rc, opt);
  CHECK(r.finished);
  CHECK(r.steps == 60);
  CHECK(r.tokens == 60.0 * 256);
  CHECK(r.epochs > 1.0);  // 480 rows read from 270 train rows
  MESSAGE("final train loss " << r.final_train_loss << ", val " << r.final_val_loss << ", epochs " << r.epochs);
  CHECK(r.final_train_loss < 0.6 * std::log(512.0));  // bytes of English: far below uniform
  CHECK(r.final_val_loss < 0.7 * std::log(512.0));

  const auto train_pts = db.series(rc.run_id(), "train");
  const auto val_pts = db.series(rc.run_id(), "val");
  CHECK(train_pts.size() == 6);  // every 10 steps
  CHECK(val_pts.size() == 3);    // every 20 steps
  CHECK(train_pts.back().step == 60);
  CHECK(train_pts.front().lr > 0);
  CHECK(train_pts.front().grad_norm > 0);
  CHECK(val_pts.back().loss == r.final_val_loss);
  const auto sc = db.scalars(rc.run_id());
  for (const char* k : {"unique_params", "effective_params", "tokens", "steps", "wall_s", "cpu_hours", "peak_rss_bytes",
                        "final_train_loss", "final_val_loss", "val_ppl", "tokens_per_s", "epochs", "mfu"})
    CHECK_MESSAGE(sc.count(k), k);
  CHECK(sc.at("val_ppl") == doctest::Approx(std::exp(r.final_val_loss)));
  CHECK(sc.at("epochs") == r.epochs);
  CHECK(sc.at("unique_params") < sc.at("effective_params"));  // shared FFN
  CHECK(sc.at("mfu") > 0);
  CHECK(sc.at("mfu") < 1);
  CHECK(sc.at("peak_rss_bytes") > 1e6);
}

TEST_CASE("train_run refuses to validate on data without val rows, and trains when validation is off") {
  TempDir root("train_no_val");
  config::RunConfig rc = shakespeare_run(prepare_shards(root.path, 100, /*hold_out=*/false));
  rc.train.tokens = 4 * rc.train.global_batch_tokens;
  train::TrainOptions opt;
  opt.run_dir = root.path + "/run";
  try {
    train::train_run(rc, opt);
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    CHECK(msg.find(rc.data.dir + ": no validation rows, but train.val_batches = 3") == 0);
    CHECK(msg.find("train.val_batches = 0") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(opt.run_dir + "/config.json"));  // refused before writing anything
  rc.train.val_batches = 0;
  const auto r = train::train_run(rc, opt);
  CHECK(r.finished);
  CHECK(r.steps == 4);
}

TEST_CASE("train_run: stopped after the first checkpoint and resumed, bit-identical through the ShardLoader") {
  TempDir root("train_shards_resume");
  config::RunConfig rc = shakespeare_run(prepare_shards(root.path, 120));
  rc.train.tokens = 30 * rc.train.global_batch_tokens;  // > 1 epoch of 108 train rows: crosses a pass boundary
  rc.train.checkpoint_every_tokens = 12 * rc.train.global_batch_tokens;
  rc.train.precision = "bf16";
  train::TrainOptions opt;
  opt.run_dir = root.path + "/full";
  const auto full = train::train_run(rc, opt);
  opt.run_dir = root.path + "/killed";
  opt.stop_after_tokens = 1;
  const auto part = train::train_run(rc, opt);
  CHECK(part.steps == 12);
  opt.stop_after_tokens = 0;
  const auto resumed = train::train_run(rc, opt);
  CHECK(resumed.steps == 30);
  CHECK(resumed.final_train_loss == full.final_train_loss);
  CHECK(resumed.final_val_loss == full.final_val_loss);
  CHECK(resumed.epochs == full.epochs);
  // Running a finished run again trains nothing and reports the same result.
  const auto again = train::train_run(rc, opt);
  CHECK(again.finished);
  CHECK(again.final_train_loss == full.final_train_loss);
}
