// The schema, as a list of migrations. v0 is an empty (or new) file; v1 is the first schema.
#include "runner/store/schema.h"

#include <sqlite3.h>

#include <stdexcept>
#include <vector>

#include "common/errors.h"
#include "runner/store/sqlite_util.h"

namespace sharelab::store {

namespace {

// v0 -> v1: runs, scalars, series, evals, profiles. Primary keys are the upsert keys of
// ResultsStore, so a resumed run or a re-run evaluation replaces its rows instead of adding more.
void v0_to_v1(sqlite3* db) {
  sql::exec(db, R"(
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, sweep TEXT NOT NULL, name TEXT NOT NULL, preset TEXT NOT NULL,
  scheme TEXT NOT NULL, scale TEXT NOT NULL, config_json TEXT NOT NULL, config_hash TEXT NOT NULL,
  geometry TEXT NOT NULL DEFAULT '',
  git_commit TEXT NOT NULL, host TEXT NOT NULL, device TEXT NOT NULL, threads INTEGER NOT NULL,
  status TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL DEFAULT '');
CREATE INDEX runs_sweep ON runs(sweep);
CREATE TABLE scalars (
  run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (run_id, key));
CREATE TABLE series (
  run_id TEXT NOT NULL, split TEXT NOT NULL, step INTEGER NOT NULL, tokens REAL NOT NULL,
  loss REAL NOT NULL, lr REAL NOT NULL, grad_norm REAL NOT NULL, tokens_per_s REAL NOT NULL,
  PRIMARY KEY (run_id, split, step));
CREATE TABLE evals (
  run_id TEXT NOT NULL, task TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL,
  stderr REAL NOT NULL, n INTEGER NOT NULL, shots INTEGER NOT NULL, protocol TEXT NOT NULL,
  details_json TEXT NOT NULL, PRIMARY KEY (run_id, task, metric, protocol, shots));
CREATE TABLE profiles (
  preset TEXT NOT NULL, spec_hash TEXT NOT NULL, device TEXT NOT NULL, dtype TEXT NOT NULL,
  threads INTEGER NOT NULL, batch INTEGER NOT NULL, seq INTEGER NOT NULL,
  load_ms REAL NOT NULL, init_ms REAL NOT NULL, fwd_median_ms REAL NOT NULL, fwd_min_ms REAL NOT NULL,
  fwd_max_ms REAL NOT NULL, peak_mem_bytes INTEGER NOT NULL, per_layer_ms_json TEXT NOT NULL,
  versions_json TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (preset, spec_hash, device, dtype, threads, batch, seq));
)",
            "create schema v1");
}

// v1 -> v2: runs.world_size, the data-parallel ranks that trained the run (1 before).
void v1_to_v2(sqlite3* db) {
  sql::exec(db, "ALTER TABLE runs ADD COLUMN world_size INTEGER NOT NULL DEFAULT 1", "add runs.world_size");
}

// v2 -> v3: batch-1 decoding in profiles (`runner profile --decode N`); 0 / '' = not measured.
void v2_to_v3(sqlite3* db) {
  sql::exec(db, R"(
ALTER TABLE profiles ADD COLUMN prompt_len INTEGER NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN decode_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN ttft_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN decode_tok_s REAL NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN decode_tok_s_min REAL NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN decode_tok_s_max REAL NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN decode_peak_mem_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN decode_per_layer_ms_json TEXT NOT NULL DEFAULT '';
)",
            "add profiles decode columns");
}

// migrations[i] takes version i to i + 1. Append v3_to_v4 here for the next schema.
const std::vector<void (*)(sqlite3*)> kMigrations = {v0_to_v1, v1_to_v2, v2_to_v3};

}  // namespace

int schema_version(sqlite3* db) {
  sql::Stmt st(db, "PRAGMA user_version", "read user_version");
  st.step();
  return static_cast<int>(st.integer(0));
}

int known_schema_versions() { return static_cast<int>(kMigrations.size()); }

namespace {

void too_new(int v, const std::string& path, int target) {
  if (v > target)
    throw ConfigError(path + ": results database has schema version " + std::to_string(v) + ", newer than this build's " +
                      std::to_string(target) + "; use a newer runner/analysis or another --db");
}

}  // namespace

void check_not_newer(sqlite3* db, const std::string& path, int target) { too_new(schema_version(db), path, target); }

void migrate(sqlite3* db, const std::string& path, int target) {
  if (target > known_schema_versions())
    throw std::logic_error("schema version " + std::to_string(target) + " has no migration");
  check_not_newer(db, path, target);
  if (schema_version(db) == target) return;  // the common case: no write lock taken
  sql::write_transaction(db, [&] {
    int v = schema_version(db);  // re-read under the lock: another process may have migrated
    too_new(v, path, target);
    for (; v < target; ++v) kMigrations[static_cast<size_t>(v)](db);
    sql::exec(db, "PRAGMA user_version = " + std::to_string(target), "set user_version");
  });
}

}  // namespace sharelab::store
