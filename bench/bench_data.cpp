// bench_data: preparation throughput (MB/s of text in, tokens/s out) on a mix, and loader
// throughput (tokens/s) on the result. Not a test: run it and read the numbers.
//   bench_data [--mix configs/data/default.toml] [--tokenizer FILE] [--seq-len 2048] [--rows 64]
//              [--amber-lines 2000]   (synthetic Amber jsonl rows of 2049 ids: JSON reading speed)
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/resource.h>
#include <unistd.h>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "runner/data/loader.h"
#include "runner/data/prepare.h"

using namespace sharelab::data;

static double cpu_seconds() {  // user + system time of this process, all threads
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int main(int argc, char** argv) {
  PrepareOptions o;
  o.mix_path = std::string(SHARELAB_SOURCE_DIR) + "/configs/data/default.toml";
  o.tokenizer = std::string(SHARELAB_SOURCE_DIR) + "/../shared/data/mobilellm/tokenizer.model";
  int64_t batch_rows = 64, amber_lines = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--mix"))
      o.mix_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tokenizer"))
      o.tokenizer = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seq-len"))
      o.seq_len = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rows"))
      batch_rows = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--amber-lines"))
      amber_lines = std::stoll(argv[i + 1]);
    else
      return fmt::print(stderr, "unknown flag {}\n", argv[i]), 2;
  }
  o.out_dir = (std::filesystem::temp_directory_path() / ("bench_data_" + std::to_string(::getpid()))).string();
  try {
    const double cpu0 = cpu_seconds();
    const PrepareReport r = prepare_data(o);
    const double cpu = cpu_seconds() - cpu0;
    fmt::print("prepare: {:.1f} MB of text in {:.2f}s wall = {:.2f} MB/s, {:.0f} tokens/s ({} tokenizer threads); "
               "{:.2f}s CPU = {:.2f} MB/s per busy core\n",
               r.bytes / 1e6, r.seconds, r.bytes / 1e6 / r.seconds, r.tokens / r.seconds,
               std::thread::hardware_concurrency(), cpu, r.bytes / 1e6 / cpu);
    for (int64_t seq : {int64_t(0), int64_t(128)}) {
      LoaderOptions lo;
      lo.seq_len = seq;
      lo.log_epochs = false;
      ShardLoader loader(o.out_dir, "train", lo);
      const int64_t want = std::max<int64_t>(50'000'000, loader.rows_per_epoch() * (loader.seq_len() + 1));
      int64_t tokens = 0;
      const auto t0 = std::chrono::steady_clock::now();
      while (tokens < want) tokens += loader.next(batch_rows).tokens.size();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      fmt::print(
          "loader: seq_len {:>5}, batches of {} rows: {:.0f}M tokens in {:.2f}s = {:.1f}M tokens/s ({:.2f} epochs)\n",
          loader.seq_len(), batch_rows, tokens / 1e6, s, tokens / 1e6 / s, loader.epochs());
    }
    // Amber jsonl: pre-tokenized rows, so this measures JSON parsing + shard writing.
    const std::string amber_dir = o.out_dir + "-amber";
    std::filesystem::create_directories(amber_dir);
    {
      // Laid out as Amber's files are (Python's json.dumps: ", " and ": " separators).
      std::ofstream f(amber_dir + "/chunk.jsonl");
      std::vector<int64_t> ids(2049);
      for (int64_t l = 0; l < amber_lines; ++l) {
        for (size_t k = 0; k < ids.size(); ++k) ids[k] = (l * 7919 + int64_t(k) * 31) % 32000;
        f << fmt::format("{{\"token_ids\": [{}], \"source\": \"c4\"}}\n", fmt::join(ids, ", "));
      }
      std::ofstream(amber_dir + "/mix.toml") << "[mix]\nseq_len = 2048\nvocab_size = 32000\n[[source]]\nname = \"c4\"\n"
                                                "path = \"chunk.jsonl\"\nreader = \"amber-jsonl\"\n";
    }
    PrepareOptions a;
    a.mix_path = amber_dir + "/mix.toml";
    a.out_dir = amber_dir + "/out";
    a.progress = false;
    const PrepareReport ar = prepare_data(a);
    fmt::print("prepare amber-jsonl: {:.1f} MB in {:.2f}s = {:.1f} MB/s, {:.1f}M tokens/s\n", ar.bytes / 1e6,
               ar.seconds, ar.bytes / 1e6 / ar.seconds, ar.tokens / 1e6 / ar.seconds);
    std::filesystem::remove_all(amber_dir);
  } catch (const std::exception& e) {
    std::filesystem::remove_all(o.out_dir);
    std::filesystem::remove_all(o.out_dir + "-amber");
    fmt::print(stderr, "bench_data: {}\n", e.what());
    return 1;
  }
  std::filesystem::remove_all(o.out_dir);
  return 0;
}
