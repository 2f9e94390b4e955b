// Golden loss trajectory: the `debug` preset trained 20 steps (fp32, one thread, seed 0) on
// synthetic token rows written here, its per-step train losses equal to a committed file to 1e-6
// absolute, so a change anywhere in the numerics (init, model, loss, AdamW, schedule, clipping,
// accumulation, loader order) fails a test instead of passing silently.
//
// The file is tests/golden/loss_debug_fp32_torch<MAJOR>.<MINOR>_<gemm>.txt: LibTorch's version,
// and the library doing fp32 products (onednn or aten, see CMakeLists.txt SHARELAB_DNNL), since
// either sums in its own order. Regenerate it, after checking that the change is intended:
//   SHARELAB_UPDATE_GOLDEN=1 build/test_golden_loss
// (also how a new LibTorch version gets its file; commit the file it writes).
#include <doctest/doctest.h>

#include <torch/torch.h>
#include <unistd.h>
#include <torch/version.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "arch/registry.h"
#include "kernels/fused_ops.h"
#include "runner/data/manifest.h"
#include "runner/data/shard_file.h"
#include "runner/config/run_row.h"
#include "runner/store/results_store.h"
#include "runner/train/trainer.h"

using namespace sharelab;
namespace fs = std::filesystem;

namespace {

constexpr int kSteps = 20;
constexpr int64_t kSeq = 32, kVocab = 512, kRows = 96;

std::string golden_path() {
#ifdef SHARELAB_DNNL
  const char* gemm = "onednn";
#else
  const char* gemm = "aten";
#endif
  std::ostringstream name;
  name << "loss_debug_fp32_torch" << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR << "_" << gemm << ".txt";
  return (fs::path(SHARELAB_SOURCE_DIR) / "tests" / "golden" / name.str()).string();
}

// splitmix64: a fixed integer stream, independent of any library's RNG.
uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// kRows rows of kSeq + 1 ids in [0, 512): each row follows x' = (5 x + c) mod 512 with one of four
// increments c, so there is structure to learn in 20 steps. Written as `runner data prepare`
// would leave a folder (shards + manifest.json), all rows in train.
std::string write_data(const fs::path& root) {
  const fs::path dir = root / "data";
  fs::create_directories(dir);
  data::Manifest man;
  man.seq_len = kSeq;
  man.vocab_size = kVocab;
  man.dtype = data::dtype_for_vocab(kVocab);
  data::SourceStats src;
  src.name = "synthetic";
  src.reader = "amber-jsonl";
  src.files = 1;
  data::ShardWriter w(dir.string(), data::kTrain, kSeq, man.dtype, 64);
  uint64_t state = 12345;
  std::vector<uint32_t> ids(kSeq + 1);
  for (int64_t r = 0; r < kRows; ++r) {
    ids[0] = uint32_t(splitmix(state) % kVocab);
    const uint32_t c = 1 + 2 * uint32_t(splitmix(state) % 4);
    for (int64_t k = 1; k <= kSeq; ++k) ids[size_t(k)] = (5 * ids[size_t(k - 1)] + c) % kVocab;
    w.add_row(ids.data(), 0);
    src.docs[data::kTrain] += 1, src.rows[data::kTrain] += 1, src.tokens[data::kTrain] += kSeq + 1;
  }
  w.finish();
  man.shards = w.shards();
  man.sources.push_back(src);
  std::ofstream((dir / data::kManifestName).string()) << man.to_json();
  return dir.string();
}

config::RunConfig golden_run(const std::string& data_dir) {
  config::RunConfig rc;
  rc.sweep = "golden";
  rc.name = "debug-fp32";
  rc.preset = "debug";
  rc.model = arch::resolve_preset("debug");
  rc.data.dir = data_dir;
  auto& t = rc.train;
  t.seed = 0;
  t.precision = "fp32";
  t.device = "cpu";
  t.threads = 1;
  t.seq_len = kSeq;
  t.micro_batch = 4;
  t.global_batch_tokens = 2 * 4 * kSeq;  // two micro-batches accumulated per step
  t.tokens = double(kSteps * t.global_batch_tokens);
  t.lr = 3e-3;
  t.min_lr = 3e-4;
  t.warmup_steps = 4;
  t.checkpoint_every_tokens = 0;  // only the final checkpoint
  t.val_batches = 0;
  t.log_every_steps = 1;
  return rc;
}

}  // namespace

TEST_CASE("golden loss trajectory: debug preset, fp32, 1 thread, seed 0, 20 steps") {
  torch::set_num_threads(1);  // one thread: a fixed summation order (train_run sets it again)
  kernels::set_fused_ops_enabled(true);  // the default path, whatever SHARELAB_FUSED says
  const fs::path root = fs::temp_directory_path() / ("sharelab_golden_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const config::RunConfig rc = golden_run(write_data(root));

  store::ResultsStore db((root / "results.db").string());
  db.begin_run(config::make_run_row(rc));
  train::TrainOptions opt;
  opt.run_dir = (root / "run").string();
  opt.store = &db;
  const auto r = train::train_run(rc, opt);
  REQUIRE(r.finished);
  const auto pts = db.series(rc.run_id(), "train");
  fs::remove_all(root);
  REQUIRE(pts.size() == size_t(kSteps));

  const std::string path = golden_path();
  const char* update = std::getenv("SHARELAB_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream out(path);
    out << "# step train_loss: tests/test_golden_loss.cpp (debug, fp32, 1 thread, seed 0), LibTorch "
        << TORCH_VERSION << "\n";
    out.precision(17);
    for (const auto& p : pts) out << p.step << " " << p.loss << "\n";
    out.close();
    MESSAGE("wrote " << path);
    CHECK(fs::file_size(path) > 0);
    return;
  }

  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "no golden file " << path << " for LibTorch " << TORCH_VERSION
                                                << "; write it with SHARELAB_UPDATE_GOLDEN=1 build/test_golden_loss");
  std::vector<std::pair<int64_t, double>> want;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    int64_t step;
    double loss;
    REQUIRE_MESSAGE(bool(ls >> step >> loss), path << ": bad line '" << line << "'");
    want.emplace_back(step, loss);
  }
  REQUIRE(want.size() == pts.size());
  for (size_t i = 0; i < pts.size(); ++i) {
    const double got = pts[i].loss, golden = want[i].second;
    INFO("step " << pts[i].step << ": loss " << std::setprecision(17) << got << ", golden " << golden);
    CHECK(pts[i].step == want[i].first);
    CHECK(std::abs(got - golden) <= 1e-6);
  }
  // The trajectory learns: a regenerated file that stopped descending would be a broken run.
  CHECK(want.back().second < want.front().second - 0.5);
}
