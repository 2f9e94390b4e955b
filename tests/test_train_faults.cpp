// Training faults (issue 18): a non-finite loss or gradient stops the run (or is skipped within
// train.skip_nonfinite) and never reaches a checkpoint; a full disk during a checkpoint leaves the
// previous one and `latest` intact; a flipped byte in a checkpoint or a shard is refused by its
// checksum; resuming twice, and across an epoch boundary of the data, ends bit-identical to an
// uninterrupted run in fp32 and bf16. Signals: tests/cli/train_faults.sh.
#include <doctest/doctest.h>

#include <H5Cpp.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "arch/h5_tensors.h"
#include "arch/registry.h"
#include "arch/weights.h"
#include "common/atomic_file.h"
#include "common/errors.h"
#include "runner/config/config_fields.h"
#include "runner/config/run_row.h"
#include "runner/config/toml_value.h"
#include "runner/data/loader.h"
#include "runner/data/manifest.h"
#include "runner/data/shard_file.h"
#include "runner/store/results_store.h"
#include "runner/train/checkpoint.h"
#include "runner/train/train_loop.h"
#include "h5_test_util.h"
#include "train_test_util.h"
#include "runner/train/trainer.h"
#include "runner/train/validate_train.h"

using namespace sharelab;
namespace fs = std::filesystem;

namespace {

using test::MemorySource;
using test::TempDir;
using test::write_shards;

// SHARELAB_FAULT_NONFINITE for one scope.
struct FaultSteps {
  explicit FaultSteps(const char* steps) { ::setenv("SHARELAB_FAULT_NONFINITE", steps, 1); }
  ~FaultSteps() { ::unsetenv("SHARELAB_FAULT_NONFINITE"); }
};

// train_test_util.h's tiny run without validation, logging every step.
config::RunConfig tiny_run(const std::string& precision = "fp32") {
  config::RunConfig rc = test::tiny_run(precision);
  rc.train.val_every_tokens = config::TrainConfig{}.val_every_tokens;
  rc.train.val_batches = 0;
  rc.train.log_every_steps = 1;
  return rc;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool all_finite(const std::string& ckpt) {
  for (const auto& [name, t] : arch::read_tensor_file(ckpt).tensors)
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) return false;
  return true;
}

using sharelab::test::dataset_offset;
using sharelab::test::flip_byte;

// Loads a checkpoint into a fresh model and optimizer of `rc`.
train::LoopState load(const config::RunConfig& rc, const std::string& ckpt) {
  arch::CausalLM m(rc.model);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : m->named_parameters()) named.emplace_back(p.key(), p.value());
  train::AdamW opt(named, {rc.train.beta1, rc.train.beta2, rc.train.adam_eps, rc.train.weight_decay});
  return train::load_checkpoint(ckpt, m, opt, rc.canonical_json());
}

// A prepared data folder of `rows` train rows of 33 random byte ids (seq_len 32), 64 rows a shard.
std::string random_shards(const std::string& root, int rows) {
  auto gen = at::detail::createCPUGenerator(7);
  const auto t = torch::randint(256, {rows, 33}, gen, torch::kInt64).contiguous();
  return write_shards(root, "random", rows, /*hold_out=*/false,
                      [&](int r, int k) { return uint32_t(t[r][k].item<int64_t>()); });
}

// Every dataset of two checkpoints equal, timings aside.
void check_same_checkpoint(const std::string& a, const std::string& b) {
  const auto wa = arch::read_tensor_file(a), wb = arch::read_tensor_file(b);
  REQUIRE(wa.tensors.size() == wb.tensors.size());
  for (const auto& [name, t] : wa.tensors) {
    if (name == "state.wall_s" || name == "state.train_s" || name == "state.cpu_s") continue;
    REQUIRE_MESSAGE(wb.tensors.count(name), name);
    CHECK_MESSAGE(torch::equal(t, wb.tensors.at(name)), name);
  }
}

}  // namespace

TEST_CASE("crc32c: the standard check value, chained calls") {
  const std::string s = "123456789";
  CHECK(arch::crc32c(s.data(), s.size()) == 0xE3069283u);
  CHECK(arch::crc32c(s.data() + 4, 5, arch::crc32c(s.data(), 4)) == 0xE3069283u);
  std::vector<uint8_t> big(1000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 7);
  uint32_t chained = 0;
  for (size_t i = 0; i < big.size(); i += 37) chained = arch::crc32c(big.data() + i, std::min<size_t>(37, big.size() - i), chained);
  CHECK(chained == arch::crc32c(big.data(), big.size()));
}

TEST_CASE("crc32c: the SSE4.2 path equals the tables at every length and alignment, and pieces combine") {
  std::vector<uint8_t> buf(3 * 8192 * 3 + 4099);  // several blocks of three 8 KiB streams, and a tail
  uint64_t x = 88172645463325252ull;
  for (auto& b : buf) b = uint8_t((x ^= x << 13, x ^= x >> 7, x ^= x << 17) >> 24);
  for (size_t off : {0, 1, 3, 7}) {
    for (size_t len : {size_t(0), size_t(1), size_t(7), size_t(8), size_t(9), size_t(100), size_t(3 * 8192 - 1),
                       size_t(3 * 8192), size_t(3 * 8192 + 1), buf.size() - off}) {
      CAPTURE(off);
      CAPTURE(len);
      const uint8_t* p = buf.data() + off;
      CHECK(arch::crc32c(p, len, 0xdeadbeef) == arch::crc32c_portable(p, len, 0xdeadbeef));
      for (size_t cut : {size_t(0), len / 3, len}) {
        const uint32_t a = arch::crc32c(p, cut), b = arch::crc32c(p + cut, len - cut);
        CHECK(arch::crc32c_combine(a, b, len - cut) == arch::crc32c(p, len));
      }
    }
  }
}

TEST_CASE("train.skip_nonfinite: an integer >= 0, one-line errors") {
  config::RunConfig rc = tiny_run();
  config::assign(rc, config::parse_set("train.skip_nonfinite=3"));
  CHECK(rc.train.skip_nonfinite == 3);
  CHECK(rc.canonical_json().find("\"skip_nonfinite\":3") != std::string::npos);
  CHECK(tiny_run().canonical_json().find("skip_nonfinite") == std::string::npos);  // run ids of older runs kept
  CHECK_THROWS_WITH_AS(config::assign(rc, config::parse_set("train.skip_nonfinite=1.5")),
                       doctest::Contains("expected an integer"), ConfigError);
  config::assign(rc, config::parse_set("train.skip_nonfinite=-1"));
  CHECK_THROWS_WITH_AS(train::validate_train(rc.train), doctest::Contains("train.skip_nonfinite -1 must be an integer >= 0"),
                       ConfigError);
}

TEST_CASE("a non-finite step stops the run by default, naming the step, and keeps the last good checkpoint") {
  TempDir dir("nan_stop");
  const config::RunConfig rc = tiny_run();
  train::TrainOptions opt;
  opt.run_dir = dir.path;
  MemorySource src(40, 33, 512, 1);
  FaultSteps fault("5");
  std::string msg;
  try {
    train::train_on(rc, opt, src, nullptr);
  } catch (const ConfigError&) {
    FAIL("a non-finite loss is not a config error");
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  MESSAGE(msg);
  CHECK(msg.find("run " + rc.run_id()) != std::string::npos);
  CHECK(msg.find("step 5:") != std::string::npos);
  CHECK(msg.find("loss inf") != std::string::npos);
  CHECK(msg.find("train.skip_nonfinite = 0") != std::string::npos);
  CHECK(msg.find("ckpt-000000003.h5") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(files_in(dir.path) == std::vector<std::string>{"ckpt-000000003.h5", "config.json", "latest"});
  const auto ck = train::latest_checkpoint(dir.path);
  REQUIRE(ck);
  CHECK(all_finite(*ck));
  CHECK(load(rc, *ck).step == 3);
}

TEST_CASE("train.skip_nonfinite = N: N steps skipped (no update, data consumed) and counted, the N+1-th stops") {
  TempDir dir("nan_skip");
  config::RunConfig rc = tiny_run();
  rc.train.skip_nonfinite = 2;
  store::ResultsStore db(dir.path + "/results.db");
  db.begin_run(config::make_run_row(rc));
  train::TrainOptions opt;
  opt.run_dir = dir.path + "/run";
  opt.store = &db;
  {
    FaultSteps fault("2,5");
    MemorySource src(40, 33, 512, 1);
    const auto r = train::train_on(rc, opt, src, nullptr);
    CHECK(r.finished);
    CHECK(r.steps == 8);
    CHECK(std::isfinite(r.final_train_loss));
    CHECK(all_finite(r.final_checkpoint));
    const auto f = arch::read_tensor_file(r.final_checkpoint);
    CHECK(f.tensors.at("state.nonfinite_skipped").item<int64_t>() == 2);
    CHECK(f.tensors.at("state.data_cursor").item<int64_t>() == 8 * 2 * 2);  // the skipped steps' rows consumed
    arch::CausalLM m(rc.model);
    for (const auto& [name, t] : arch::native_state(m))
      CHECK(f.tensors.at("optim.step." + name).item<int64_t>() == 6);  // 8 steps, 2 without an update
    CHECK(db.scalars(rc.run_id()).at("nonfinite_skipped_steps") == 2);
    for (const auto& p : db.series(rc.run_id(), "train")) CHECK(std::isfinite(p.loss));
  }
  {  // the third non-finite step, with two allowed: stopped, named
    TempDir d2("nan_skip_stop");
    opt.run_dir = d2.path;
    opt.store = nullptr;
    FaultSteps fault("2,5,7");
    MemorySource src(40, 33, 512, 1);
    CHECK_THROWS_WITH_AS(train::train_on(rc, opt, src, nullptr),
                         doctest::Contains("step 7: loss inf and gradient norm nan are not all finite"),
                         std::runtime_error);
    CHECK(load(rc, *train::latest_checkpoint(d2.path)).nonfinite_skipped == 2);
  }
}

TEST_CASE("a checkpoint holding NaN is never written") {
  TempDir dir("nan_ckpt");
  const config::RunConfig rc = tiny_run();
  arch::CausalLM m(rc.model);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : m->named_parameters()) named.emplace_back(p.key(), p.value());
  train::AdamW opt(named, {0.9, 0.95, 1e-8, 0.1});
  train::LoopState s;
  s.step = 4;
  {
    torch::NoGradGuard no_grad;
    named.back().second.view(-1)[0] = std::nan("");
  }
  CHECK_THROWS_WITH_AS(train::save_checkpoint(dir.path, m, opt, s, rc.canonical_json()),
                       doctest::Contains("holds NaN or inf at step 4"), std::runtime_error);
  CHECK(files_in(dir.path).empty());
}

TEST_CASE("a full disk during a checkpoint: the previous one and `latest` stay, nothing partial, the OS error named") {
  TempDir dir("full_disk");
  const config::RunConfig rc = tiny_run();
  train::TrainOptions opt;
  opt.run_dir = dir.path;
  opt.stop_after_tokens = 1;  // the first checkpoint: step 3
  {
    MemorySource src(40, 33, 512, 1);
    REQUIRE(train::train_on(rc, opt, src, nullptr).steps == 3);
  }
  const std::string first = dir.path + "/ckpt-000000003.h5";
  const auto size = fs::file_size(first);
  const std::string msg_file = dir.path + ".msg";
  // A child resumes under a file-size limit below one checkpoint: its next checkpoint (step 6)
  // fails with EFBIG, as a full disk fails with ENOSPC.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{};
    lim.rlim_cur = lim.rlim_max = rlim_t(size / 2);
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int code = 0;
    std::string msg = "(no error)";
    try {
      train::TrainOptions o2;
      o2.run_dir = dir.path;
      MemorySource src(40, 33, 512, 1);
      train::train_on(rc, o2, src, nullptr);
    } catch (const std::exception& e) {
      msg = e.what();
      code = 3;
    }
    const int fd = ::open(msg_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      (void)!::write(fd, msg.data(), msg.size());
      ::close(fd);
    }
    ::_exit(code);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  REQUIRE(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 3);
  std::ifstream in(msg_file);
  std::string msg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(msg_file);
  MESSAGE(msg);
  CHECK(msg.find(dir.path + "/ckpt-000000006.h5: write failed") != std::string::npos);
  CHECK(msg.find("File too large") != std::string::npos);
  CHECK(msg.find("'latest' are kept") != std::string::npos);
  CHECK(files_in(dir.path) == std::vector<std::string>{"ckpt-000000003.h5", "config.json", "latest"});
  CHECK(train::latest_checkpoint(dir.path) == first);
  CHECK(load(rc, first).step == 3);
  // And the run goes on from there once there is room: bit-identical to an uninterrupted one.
  TempDir full("full_disk_ref");
  train::TrainOptions o3;
  o3.run_dir = full.path;
  MemorySource s1(40, 33, 512, 1), s2(40, 33, 512, 1);
  const auto want = train::train_on(rc, o3, s1, nullptr);
  o3.run_dir = dir.path;
  const auto got = train::train_on(rc, o3, s2, nullptr);
  CHECK(got.final_train_loss == want.final_train_loss);
}

TEST_CASE("a flipped byte in a checkpoint is refused, naming the file and the dataset, while old checkpoints still load") {
  TempDir dir("ckpt_crc");
  const config::RunConfig rc = tiny_run();
  train::TrainOptions opt;
  opt.run_dir = dir.path;
  MemorySource src(40, 33, 512, 1);
  const auto r = train::train_on(rc, opt, src, nullptr);
  REQUIRE(r.finished);
  const std::string ck = r.final_checkpoint;
  CHECK(load(rc, ck).step == 8);  // verified
  arch::CausalLM m(rc.model);
  const std::string name = arch::native_state(m).begin()->first;
  const std::string copy = dir.path + "/copy.h5";
  fs::copy_file(ck, copy);
  flip_byte(ck, dataset_offset(ck, name) + 5);
  CHECK_THROWS_WITH_AS(load(rc, ck), doctest::Contains((ck + ": dataset '" + name + "': checksum mismatch").c_str()), ConfigError);
  flip_byte(copy, dataset_offset(copy, "optim.exp_avg_sq." + name) + 3);
  CHECK_THROWS_WITH_AS(load(rc, copy), doctest::Contains(("dataset 'optim.exp_avg_sq." + name + "': checksum mismatch").c_str()),
                       ConfigError);
  // A checkpoint from before checksums (the same datasets, no crc32c attributes) loads; one that
  // lost a single checksum (a dataset rewritten by another tool) does not.
  const std::string old = dir.path + "/ckpt-000000006.h5";
  REQUIRE(fs::exists(old));
  const std::string partial = dir.path + "/partial.h5";
  fs::copy_file(old, partial);
  {
    H5::H5File f(old, H5F_ACC_RDWR);
    for (hsize_t i = 0; i < f.getNumObjs(); ++i) f.openDataSet(f.getObjnameByIdx(i)).removeAttr("crc32c");
    H5::H5File g(partial, H5F_ACC_RDWR);
    g.openDataSet(name).removeAttr("crc32c");
  }
  CHECK(load(rc, old).step == 6);
  CHECK_THROWS_WITH_AS(load(rc, partial),
                       doctest::Contains((partial + ": dataset '" + name + "' has no 'crc32c' attribute, unlike the others").c_str()),
                       ConfigError);
}

TEST_CASE("a flipped byte in a shard's tokens is refused, naming the file and the dataset") {
  TempDir root("shard_crc");
  const std::string dir = random_shards(root.path, 40);
  const std::string shard = dir + "/train-00000.h5";
  const data::LoaderOptions lo{0, 0, 1, 32};
  CHECK(data::open_shard(shard, 40, 33, "uint16").has_crc);
  {
    data::ShardLoader ok(dir, "train", lo);
    CHECK(ok.next(4).rows == 4);
  }
  flip_byte(shard, dataset_offset(shard, "tokens") + 100);
  data::ShardLoader bad(dir, "train", lo);  // opening checks the layout; the bytes are checked before use
  CHECK_THROWS_WITH_AS(bad.next(1), doctest::Contains((shard + ": dataset 'tokens': checksum mismatch").c_str()), ConfigError);
  config::RunConfig rc = tiny_run();
  rc.data.dir = dir;
  rc.model.vocab_size = 256;
  train::TrainOptions opt;
  opt.run_dir = root.path + "/run";
  CHECK_THROWS_WITH_AS(train::train_run(rc, opt), doctest::Contains("checksum mismatch"), ConfigError);
  CHECK(!train::latest_checkpoint(opt.run_dir));  // never trained on
}

TEST_CASE("resume twice, across an epoch boundary of the data: bit-identical to the uninterrupted run") {
  for (const char* precision : {"fp32", "bf16"}) {
    SUBCASE(precision) {
      TempDir root("resume_twice");
      config::RunConfig rc = tiny_run(precision);
      rc.data.dir = random_shards(root.path, 24);  // 24 rows: a pass every 3 steps of 8 rows
      rc.model.vocab_size = 256;
      rc.train.micro_batch = 4;
      rc.train.global_batch_tokens = 2 * 4 * 32;  // accumulation 2
      rc.train.tokens = 12 * rc.train.global_batch_tokens;
      rc.train.checkpoint_every_tokens = 2 * rc.train.global_batch_tokens;
      train::TrainOptions opt;
      opt.run_dir = root.path + "/full";
      const auto full = train::train_run(rc, opt);
      REQUIRE(full.finished);
      CHECK(full.epochs == doctest::Approx(4.0));

      opt.run_dir = root.path + "/resumed";
      opt.stop_after_tokens = 1;  // step 2: first pass
      CHECK(train::train_run(rc, opt).steps == 2);
      opt.stop_after_tokens = 7 * rc.train.global_batch_tokens;  // step 8: the resume crosses passes 1 -> 3
      const auto second = train::train_run(rc, opt);
      CHECK(second.steps == 8);
      CHECK(second.epochs == doctest::Approx(8.0 / 3));
      opt.stop_after_tokens = 0;
      const auto last = train::train_run(rc, opt);  // mid-pass 3 -> the end
      CHECK(last.finished);
      CHECK(last.final_train_loss == full.final_train_loss);  // exact
      CHECK(last.epochs == full.epochs);
      check_same_checkpoint(full.final_checkpoint, last.final_checkpoint);
    }
  }
}
