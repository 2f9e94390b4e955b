// The training loop on in-memory corpora: a tiny model overfits one batch (llm.c style), and a run
// stopped after its first checkpoint and resumed ends bit-identical to an uninterrupted run (loss
// and every weight), in fp32 and in bf16 autocast. Also what a checkpoint file holds.
#include <doctest/doctest.h>

#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>

#include "common/errors.h"
#include "arch/h5_tensors.h"
#include "arch/registry.h"
#include "arch/weights.h"
#include "runner/train/checkpoint.h"
#include "runner/train/train_loop.h"
#include "train_test_util.h"

using namespace sharelab;
namespace fs = std::filesystem;

namespace {

using test::MemorySource;
using test::TempDir;
using test::tiny_run;


}  // namespace

TEST_CASE("overfitting one batch: loss < 0.5 x initial within 30 steps") {
  TempDir dir("overfit");
  config::RunConfig rc = tiny_run("fp32");
  rc.train.micro_batch = 4;
  rc.train.global_batch_tokens = 4 * 32;
  rc.train.tokens = 30 * rc.train.global_batch_tokens;
  rc.train.checkpoint_every_tokens = 0;  // only the final one
  rc.train.val_batches = 0;
  rc.train.warmup_steps = 3;
  MemorySource one_batch(4, 33, rc.model.vocab_size, 5);  // 4 rows, repeated every step
  // Initial loss on that batch, with the run's initialisation.
  arch::CausalLM m(rc.model);
  m->reset_parameters(rc.train.seed);
  auto rows = one_batch.next(4);
  auto x = torch::from_blob(rows.tokens.data(), {4, 33}, torch::kInt32).to(torch::kInt64);
  const double initial = m->loss(x.narrow(1, 0, 32), x.narrow(1, 1, 32)).item<double>();
  CHECK(initial == doctest::Approx(std::log(512.0)).epsilon(0.05));  // near-uniform at init
  one_batch.seek(0);

  train::TrainOptions opt;
  opt.run_dir = dir.path;
  auto r = train::train_on(rc, opt, one_batch, nullptr);
  CHECK(r.finished);
  CHECK(r.steps == 30);
  CHECK(r.epochs == doctest::Approx(30.0));  // the same 4 rows, 30 times: repetition is reported
  MESSAGE("initial loss " << initial << ", after 30 steps " << r.final_train_loss);
  CHECK(r.final_train_loss < 0.5 * initial);
}

TEST_CASE("stop after the first checkpoint, resume: bit-identical to the uninterrupted run") {
  for (const char* precision : {"fp32", "bf16"}) {
    SUBCASE(precision) {
      TempDir a("full"), b("resumed");
      const config::RunConfig rc = tiny_run(precision);
      train::TrainOptions opt;

      opt.run_dir = a.path;
      MemorySource train_a(40, 33, 512, 1), val_a(8, 33, 512, 2);
      const auto full = train::train_on(rc, opt, train_a, &val_a);
      REQUIRE(full.finished);
      CHECK(full.steps == 8);

      opt.run_dir = b.path;
      opt.stop_after_tokens = 1;  // stop at the first checkpoint at or after 1 token
      MemorySource train_b(40, 33, 512, 1), val_b(8, 33, 512, 2);
      const auto part = train::train_on(rc, opt, train_b, &val_b);
      CHECK(!part.finished);
      CHECK(part.steps == 3);  // the first checkpoint (every 3 steps)
      opt.stop_after_tokens = 0;
      MemorySource train_c(40, 33, 512, 1), val_c(8, 33, 512, 2);  // a fresh process's view
      const auto resumed = train::train_on(rc, opt, train_c, &val_c);
      CHECK(resumed.finished);
      CHECK(resumed.steps == 8);
      CHECK(resumed.final_train_loss == full.final_train_loss);  // exact, not approximate
      CHECK(resumed.final_val_loss == full.final_val_loss);
      CHECK(resumed.epochs == full.epochs);

      const auto wa = arch::read_tensor_file(full.final_checkpoint), wb = arch::read_tensor_file(resumed.final_checkpoint);
      REQUIRE(wa.tensors.size() == wb.tensors.size());
      for (const auto& [name, t] : wa.tensors) {
        if (name == "state.wall_s" || name == "state.train_s" || name == "state.cpu_s") continue;  // timings
        REQUIRE_MESSAGE(wb.tensors.count(name), name);
        CHECK_MESSAGE(torch::equal(t, wb.tensors.at(name)), name);
      }
    }
  }
}

TEST_CASE("a checkpoint holds model, optimizer, RNG, cursor and config, and the newest two are kept") {
  TempDir dir("ckpt");
  config::RunConfig rc = tiny_run("fp32");
  rc.train.checkpoint_every_tokens = rc.train.global_batch_tokens;  // every step
  train::TrainOptions opt;
  opt.run_dir = dir.path;
  MemorySource src(40, 33, 512, 1);
  const auto r = train::train_on(rc, opt, src, nullptr);
  REQUIRE(r.finished);

  std::vector<std::string> ckpts;
  for (const auto& e : fs::directory_iterator(dir.path))
    if (e.path().extension() == ".h5") ckpts.push_back(e.path().filename().string());
  std::sort(ckpts.begin(), ckpts.end());
  CHECK(ckpts == std::vector<std::string>{"ckpt-000000007.h5", "ckpt-000000008.h5"});
  CHECK(train::latest_checkpoint(dir.path) == dir.path + "/ckpt-000000008.h5");
  CHECK(fs::exists(dir.path + "/config.json"));

  const auto f = arch::read_tensor_file(r.final_checkpoint);
  CHECK(f.attrs.at("format") == train::kCheckpointFormat);
  CHECK(f.attrs.at("config_json") == rc.canonical_json());
  arch::CausalLM m(rc.model);
  for (const auto& [name, t] : arch::native_state(m)) {
    CHECK_MESSAGE(f.tensors.count(name), name);  // native names, one dataset per unique tensor
    CHECK(f.tensors.count("optim.exp_avg." + name));
    CHECK(f.tensors.count("optim.exp_avg_sq." + name));
    CHECK(f.tensors.at("optim.step." + name).item<int64_t>() == 8);
  }
  CHECK(f.tensors.at("state.step").item<int64_t>() == 8);
  CHECK(f.tensors.at("state.data_cursor").item<int64_t>() == 8 * 2 * 2);
  CHECK(f.tensors.at("state.tokens").item<double>() == 8.0 * rc.train.global_batch_tokens);
  CHECK(f.tensors.at("rng.torch_cpu").numel() > 0);

  // A run directory with a different config is refused rather than silently mixed.
  config::RunConfig other = rc;
  other.train.lr = 1e-3;
  MemorySource src2(40, 33, 512, 1);
  CHECK_THROWS_WITH_AS(train::train_on(other, opt, src2, nullptr), doctest::Contains("differs from this run's config"),
                       ConfigError);
}

TEST_CASE("config errors surface before training") {
  TempDir dir("errors");
  config::RunConfig rc = tiny_run("fp32");
  rc.train.global_batch_tokens = 100;
  train::TrainOptions opt;
  opt.run_dir = dir.path;
  MemorySource src(4, 33, 512, 1);
  CHECK_THROWS_WITH_AS(train::train_on(rc, opt, src, nullptr), doctest::Contains("train.global_batch_tokens 100"),
                       ConfigError);
  rc = tiny_run("fp32");
  rc.train.seq_len = 256;  // debug preset: max_seq_len 128
  rc.train.global_batch_tokens = 2 * 256;
  rc.train.tokens = 1e4;
  CHECK_THROWS_WITH_AS(train::train_on(rc, opt, src, nullptr), "train.seq_len 256 exceeds model.max_seq_len 128",
                       ConfigError);
}
