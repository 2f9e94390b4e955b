// The results database (sqlite3): runs, per-run scalars, time series, evaluations and profiles.
// WAL mode and a busy timeout so several sweep processes can share one file; every write is one
// transaction, so a killed process leaves no half-written row. The schema is versioned with
// PRAGMA user_version and migrated forward on open. Torch-free: `analysis` links it too.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace sharelab::store {

// Where the runner and `analysis` keep results unless --db says otherwise (results/README.md).
inline constexpr const char* kDefaultDb = "results/sharelab.db";

struct RunRow {
  std::string run_id;  // stable hash of the resolved config
  std::string sweep, name, preset, scheme, scale;
  std::string config_json;
  std::string config_hash;
  std::string geometry;  // hash of what sets throughput (model, seq, batch, precision, device, threads)
  std::string git_commit, host, device;
  int threads = 0;       // per rank
  std::string status;  // "running", "finished", "failed"
  std::string started_at, finished_at;  // ISO 8601 UTC
  int world_size = 1;  // data-parallel ranks of the latest attempt
};

struct SeriesPoint {
  std::string split = "train";  // "train" or "val"
  int64_t step = 0;
  double tokens = 0, loss = 0, lr = 0, grad_norm = 0, tokens_per_s = 0;
};

struct EvalRow {
  std::string run_id, task, metric;  // metric: "acc", "acc_norm", "mc2", "word_perplexity", ...
  double value = 0, stderr_ = 0;
  int64_t n = 0;       // examples scored
  int64_t shots = 0;
  std::string protocol;
  std::string details_json;  // few-shot indices, per-subject scores, labels ...
};

struct ProfileRow {
  std::string preset, spec_hash, device, dtype;
  int threads = 0;
  int64_t batch = 0, seq = 0;
  double load_ms = 0, init_ms = 0, fwd_median_ms = 0, fwd_min_ms = 0, fwd_max_ms = 0;
  int64_t peak_mem_bytes = 0;
  std::string per_layer_ms_json;  // [ms of slot 0, slot 1, ...]
  std::string versions_json;      // torch, compiler, blas ...
  std::string created_at;
  // Batch-1 decoding (runner profile --decode N; all 0 / '' when not measured): a prompt of
  // prompt_len tokens, then decode_tokens generated one at a time through the KV cache.
  int64_t prompt_len = 0, decode_tokens = 0;
  double ttft_ms = 0;                                          // prefill + first token, median
  double decode_tok_s = 0, decode_tok_s_min = 0, decode_tok_s_max = 0;  // over the repeats
  int64_t decode_peak_mem_bytes = 0;
  std::string decode_per_layer_ms_json;  // [ms per token of slot 0, slot 1, ...]
};

class ResultsStore {
 public:
  static constexpr int kSchemaVersion = 3;

  // kWrite: the caller records results, so a read-only file is refused at once (ConfigError), before
  // sqlite leaves -wal/-shm files beside it or any work is done; kRead (analysis) opens it anyway.
  enum class Access { kRead, kWrite };

  // Opens or creates the database, enables WAL and a busy timeout, migrates the schema.
  // A file that is not an sqlite database, or one newer than this build -> ConfigError naming the
  // file (and both versions), before anything in it changes.
  explicit ResultsStore(const std::string& path, Access access = Access::kRead);
  ~ResultsStore();
  ResultsStore(const ResultsStore&) = delete;
  ResultsStore& operator=(const ResultsStore&) = delete;

  const std::string& path() const { return path_; }

  std::optional<RunRow> find_run(const std::string& run_id);
  bool is_finished(const std::string& run_id);
  // Insert a new run as "running", or mark an unfinished one "running" again (resume).
  void begin_run(const RunRow& run);
  void finish_run(const std::string& run_id, const std::string& status);  // "finished" | "failed"
  std::vector<RunRow> runs(const std::string& sweep = "");  // "" = all
  // Measured training tokens/s (scalar "tokens_per_s") of finished runs with this geometry,
  // newest first: what `runner sweep --dry-run` projects wall time from.
  std::vector<double> measured_tokens_per_s(const std::string& geometry);

  // Upsert by (run_id, key).
  void put_scalars(const std::string& run_id, const std::map<std::string, double>& values);
  std::map<std::string, double> scalars(const std::string& run_id);

  // Upsert by (run_id, split, step): a resumed run rewriting a step replaces it.
  void add_series(const std::string& run_id, const std::vector<SeriesPoint>& points);
  std::vector<SeriesPoint> series(const std::string& run_id, const std::string& split = "");

  // Upsert by (run_id, task, metric, protocol, shots).
  void put_evals(const std::vector<EvalRow>& rows);
  std::vector<EvalRow> evals(const std::string& run_id);

  // Upsert by (preset, spec_hash, device, dtype, threads, batch, seq): the latest measurement wins.
  void put_profile(const ProfileRow& row);
  std::vector<ProfileRow> profiles(const std::string& preset = "");

  int schema_version();  // PRAGMA user_version of the open database

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace sharelab::store
