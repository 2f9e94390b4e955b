// ResultsStore: opening (WAL, busy timeout, migration) and the typed reads and writes. Every
// write is one BEGIN IMMEDIATE transaction, so concurrent writers serialise and a killed process
// leaves either the whole write or nothing.
#include "runner/store/results_store.h"

#include <sqlite3.h>

#include <stdexcept>

#include "common/errors.h"
#include "runner/store/schema.h"
#include "runner/store/sqlite_util.h"

namespace sharelab::store {

namespace {

constexpr int kBusyTimeoutMs = 30000;

const char* kRunColumns =
    "run_id, sweep, name, preset, scheme, scale, config_json, config_hash, geometry, git_commit, host, device, "
    "threads, status, started_at, finished_at, world_size";

RunRow read_run(const sql::Stmt& st) {
  auto t = [&](int c) { return st.text(c); };
  return {t(0), t(1), t(2),  t(3),  t(4),  t(5),  t(6),  t(7),  t(8),
          t(9), t(10), t(11), int(st.integer(12)), t(13), t(14), t(15), int(st.integer(16))};  // kRunColumns
}

// Writes rows in one transaction; bind(st, row) binds one row's values to the statement.
template <typename Rows, typename Bind>
void insert_all(sqlite3* db, const char* sql, const char* what, const Rows& rows, Bind bind) {
  sql::write_transaction(db, [&] {
    sql::Stmt st(db, sql, what);
    for (const auto& r : rows) {
      bind(st, r);
      st.run();
      st.reset();
    }
  });
}

}  // namespace

ResultsStore::ResultsStore(const std::string& path, Access access) : path_(path) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw ConfigError(path + ": cannot open results database: " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // Checks that write nothing come first: a refused file is left exactly as it was.
    if (access == Access::kWrite && sqlite3_db_readonly(db_, "main") == 1)
      throw ConfigError(path + ": results database is read-only; expected a writable file (or another --db)");
    if (sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) == SQLITE_NOTADB)
      throw ConfigError(path + ": not an sqlite database; expected a sharelab results database (or a new file)");
    check_not_newer(db_, path_, kSchemaVersion);
    // WAL: readers never block the writer and one writer at a time commits; NORMAL sync is
    // durable across process kills (only an OS crash can lose the last commits, never corrupt).
    sql::exec_when_free(db_, "PRAGMA journal_mode=WAL", "enable WAL");  // another process may be switching too
    sql::exec(db_, "PRAGMA synchronous=NORMAL", "set synchronous");
    migrate(db_, path_, kSchemaVersion);
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

ResultsStore::~ResultsStore() { sqlite3_close(db_); }

int ResultsStore::schema_version() { return store::schema_version(db_); }

// --- runs --------------------------------------------------------------------------------------

std::optional<RunRow> ResultsStore::find_run(const std::string& run_id) {
  sql::Stmt st(db_, (std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?").c_str(), "find_run");
  st.bind(1, run_id);
  if (!st.step()) return std::nullopt;
  return read_run(st);
}

bool ResultsStore::is_finished(const std::string& run_id) {
  auto r = find_run(run_id);
  return r && r->status == "finished";
}

void ResultsStore::begin_run(const RunRow& r) {
  sql::write_transaction(db_, [&] {
    // A resumed run keeps its first started_at; everything else describes the current attempt.
    sql::Stmt st(db_,
                 "INSERT INTO runs (run_id, sweep, name, preset, scheme, scale, config_json, config_hash, geometry, "
                 "git_commit, host, device, threads, status, started_at, finished_at, world_size) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'running',?,'',?) "
                 "ON CONFLICT(run_id) DO UPDATE SET sweep=excluded.sweep, name=excluded.name, "
                 "preset=excluded.preset, scheme=excluded.scheme, scale=excluded.scale, "
                 "config_json=excluded.config_json, config_hash=excluded.config_hash, geometry=excluded.geometry, "
                 "git_commit=excluded.git_commit, host=excluded.host, device=excluded.device, "
                 "threads=excluded.threads, status='running', finished_at='', world_size=excluded.world_size",
                 "begin_run");
    int i = 1;
    for (const std::string* v : {&r.run_id, &r.sweep, &r.name, &r.preset, &r.scheme, &r.scale, &r.config_json,
                                 &r.config_hash, &r.geometry, &r.git_commit, &r.host, &r.device})
      st.bind(i++, *v);
    st.bind(i, r.threads);
    st.bind(i + 1, r.started_at);
    st.bind(i + 2, r.world_size);
    st.run();
  });
}

void ResultsStore::finish_run(const std::string& run_id, const std::string& status) {
  if (status != "finished" && status != "failed")
    throw std::invalid_argument("finish_run: status must be 'finished' or 'failed', got '" + status + "'");
  sql::write_transaction(db_, [&] {
    sql::Stmt st(db_,
                 "UPDATE runs SET status = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE run_id = ?",
                 "finish_run");
    st.bind(1, status).bind(2, run_id).run();
    if (sqlite3_changes(db_) != 1) throw std::runtime_error(path_ + ": finish_run: no run '" + run_id + "'");
  });
}

std::vector<RunRow> ResultsStore::runs(const std::string& sweep) {
  std::string q = std::string("SELECT ") + kRunColumns + " FROM runs" + (sweep.empty() ? "" : " WHERE sweep = ?") +
                  " ORDER BY started_at, run_id";
  sql::Stmt st(db_, q.c_str(), "runs");
  if (!sweep.empty()) st.bind(1, sweep);
  std::vector<RunRow> out;
  while (st.step()) out.push_back(read_run(st));
  return out;
}

std::vector<double> ResultsStore::measured_tokens_per_s(const std::string& geometry) {
  sql::Stmt st(db_,
               "SELECT s.value FROM runs r JOIN scalars s ON s.run_id = r.run_id "
               "WHERE r.geometry = ? AND r.status = 'finished' AND s.key = 'tokens_per_s' AND s.value > 0 "
               "ORDER BY r.finished_at DESC",
               "measured_tokens_per_s");
  st.bind(1, geometry);
  std::vector<double> out;
  while (st.step()) out.push_back(st.real(0));
  return out;
}

// --- scalars and series ------------------------------------------------------------------------

void ResultsStore::put_scalars(const std::string& run_id, const std::map<std::string, double>& values) {
  insert_all(db_, "INSERT OR REPLACE INTO scalars (run_id, key, value) VALUES (?,?,?)", "put_scalars", values,
             [&](sql::Stmt& st, const auto& kv) { st.bind(1, run_id).bind(2, kv.first).bind(3, kv.second); });
}

std::map<std::string, double> ResultsStore::scalars(const std::string& run_id) {
  sql::Stmt st(db_, "SELECT key, value FROM scalars WHERE run_id = ?", "scalars");
  st.bind(1, run_id);
  std::map<std::string, double> out;
  while (st.step()) out[st.text(0)] = st.real(1);
  return out;
}

void ResultsStore::add_series(const std::string& run_id, const std::vector<SeriesPoint>& points) {
  insert_all(db_,
             "INSERT OR REPLACE INTO series (run_id, split, step, tokens, loss, lr, grad_norm, tokens_per_s) "
             "VALUES (?,?,?,?,?,?,?,?)",
             "add_series", points, [&](sql::Stmt& st, const SeriesPoint& p) {
               st.bind(1, run_id).bind(2, p.split).bind(3, p.step).bind(4, p.tokens).bind(5, p.loss).bind(6, p.lr);
               st.bind(7, p.grad_norm).bind(8, p.tokens_per_s);
             });
}

std::vector<SeriesPoint> ResultsStore::series(const std::string& run_id, const std::string& split) {
  std::string q = "SELECT split, step, tokens, loss, lr, grad_norm, tokens_per_s FROM series WHERE run_id = ?";
  if (!split.empty()) q += " AND split = ?";
  q += " ORDER BY split, step";
  sql::Stmt st(db_, q.c_str(), "series");
  st.bind(1, run_id);
  if (!split.empty()) st.bind(2, split);
  std::vector<SeriesPoint> out;
  while (st.step()) out.push_back({st.text(0), st.integer(1), st.real(2), st.real(3), st.real(4), st.real(5), st.real(6)});
  return out;
}

// --- evals and profiles ------------------------------------------------------------------------

void ResultsStore::put_evals(const std::vector<EvalRow>& rows) {
  insert_all(db_,
             "INSERT OR REPLACE INTO evals (run_id, task, metric, value, stderr, n, shots, protocol, details_json) "
             "VALUES (?,?,?,?,?,?,?,?,?)",
             "put_evals", rows, [](sql::Stmt& st, const EvalRow& r) {
               st.bind(1, r.run_id).bind(2, r.task).bind(3, r.metric).bind(4, r.value).bind(5, r.stderr_).bind(6, r.n);
               st.bind(7, r.shots).bind(8, r.protocol).bind(9, r.details_json);
             });
}

std::vector<EvalRow> ResultsStore::evals(const std::string& run_id) {
  sql::Stmt st(db_,
               "SELECT run_id, task, metric, value, stderr, n, shots, protocol, details_json FROM evals "
               "WHERE run_id = ? ORDER BY task, metric, protocol, shots",
               "evals");
  st.bind(1, run_id);
  std::vector<EvalRow> out;
  while (st.step())
    out.push_back({st.text(0), st.text(1), st.text(2), st.real(3), st.real(4), st.integer(5), st.integer(6), st.text(7),
                   st.text(8)});
  return out;
}

void ResultsStore::put_profile(const ProfileRow& r) {
  sql::write_transaction(db_, [&] {
    sql::Stmt st(db_,
                 "INSERT OR REPLACE INTO profiles (preset, spec_hash, device, dtype, threads, batch, seq, load_ms, "
                 "init_ms, fwd_median_ms, fwd_min_ms, fwd_max_ms, peak_mem_bytes, per_layer_ms_json, versions_json, "
                 "created_at, prompt_len, decode_tokens, ttft_ms, decode_tok_s, decode_tok_s_min, decode_tok_s_max, "
                 "decode_peak_mem_bytes, decode_per_layer_ms_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 "put_profile");
    st.bind(1, r.preset).bind(2, r.spec_hash).bind(3, r.device).bind(4, r.dtype).bind(5, r.threads);
    st.bind(6, r.batch).bind(7, r.seq).bind(8, r.load_ms).bind(9, r.init_ms).bind(10, r.fwd_median_ms);
    st.bind(11, r.fwd_min_ms).bind(12, r.fwd_max_ms).bind(13, r.peak_mem_bytes).bind(14, r.per_layer_ms_json);
    st.bind(15, r.versions_json).bind(16, r.created_at).bind(17, r.prompt_len).bind(18, r.decode_tokens);
    st.bind(19, r.ttft_ms).bind(20, r.decode_tok_s).bind(21, r.decode_tok_s_min).bind(22, r.decode_tok_s_max);
    st.bind(23, r.decode_peak_mem_bytes).bind(24, r.decode_per_layer_ms_json).run();
  });
}

std::vector<ProfileRow> ResultsStore::profiles(const std::string& preset) {
  std::string q =
      "SELECT preset, spec_hash, device, dtype, threads, batch, seq, load_ms, init_ms, fwd_median_ms, fwd_min_ms, "
      "fwd_max_ms, peak_mem_bytes, per_layer_ms_json, versions_json, created_at, prompt_len, decode_tokens, ttft_ms, "
      "decode_tok_s, decode_tok_s_min, decode_tok_s_max, decode_peak_mem_bytes, decode_per_layer_ms_json FROM profiles";
  if (!preset.empty()) q += " WHERE preset = ?";
  q += " ORDER BY preset, device, dtype, threads, batch, seq";
  sql::Stmt st(db_, q.c_str(), "profiles");
  if (!preset.empty()) st.bind(1, preset);
  std::vector<ProfileRow> out;
  while (st.step()) {
    ProfileRow r{st.text(0),  st.text(1),  st.text(2),  st.text(3),    int(st.integer(4)), st.integer(5),
                 st.integer(6), st.real(7),  st.real(8),  st.real(9),    st.real(10),        st.real(11),
                 st.integer(12), st.text(13), st.text(14), st.text(15)};
    r.prompt_len = st.integer(16);
    r.decode_tokens = st.integer(17);
    r.ttft_ms = st.real(18);
    r.decode_tok_s = st.real(19);
    r.decode_tok_s_min = st.real(20);
    r.decode_tok_s_max = st.real(21);
    r.decode_peak_mem_bytes = st.integer(22);
    r.decode_per_layer_ms_json = st.text(23);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sharelab::store
