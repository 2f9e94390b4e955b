// ResultsStore: round trips in memory and on disk, idempotent upserts, schema versioning and
// migration, the newer-database error, and two processes writing one file without losing rows.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "runner/store/results_store.h"
#include "runner/store/sqlite_util.h"

using namespace sharelab::store;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test under the build tree (never the source tree).
fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::path(SHARELAB_BINARY_DIR) / "test_store_tmp" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

RunRow make_run(const std::string& id, const std::string& sweep = "s") {
  RunRow r;
  r.run_id = id;
  r.sweep = sweep;
  r.name = "run-" + id;
  r.preset = "debug";
  r.scheme = "shared-ffn";
  r.scale = "smoke";
  r.config_json = "{\"x\": 1}";
  r.config_hash = id;
  r.geometry = "g1";
  r.git_commit = "abc";
  r.host = "h";
  r.device = "cpu";
  r.threads = 2;
  r.started_at = "2026-01-01T00:00:00Z";
  return r;
}

int raw_user_version(const fs::path& p) {
  sqlite3* db = nullptr;
  sqlite3_open(p.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  sqlite3_step(st);
  int v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

}  // namespace

TEST_CASE("in-memory round trip of runs, scalars, series, evals, profiles") {
  ResultsStore s(":memory:");
  CHECK(s.schema_version() == ResultsStore::kSchemaVersion);
  CHECK_FALSE(s.find_run("a"));

  s.begin_run(make_run("a"));
  auto r = s.find_run("a");
  REQUIRE(r);
  CHECK(r->status == "running");
  CHECK(r->scheme == "shared-ffn");
  CHECK(r->config_json == "{\"x\": 1}");
  CHECK(r->threads == 2);
  CHECK_FALSE(s.is_finished("a"));

  s.put_scalars("a", {{"tokens", 1e6}, {"final_train_loss", 3.25}});
  auto sc = s.scalars("a");
  CHECK(sc.size() == 2);
  CHECK(sc["final_train_loss"] == 3.25);

  SeriesPoint p;
  p.step = 10;
  p.tokens = 2048;
  p.loss = 5.5;
  p.lr = 1e-4;
  p.grad_norm = 0.7;
  p.tokens_per_s = 900;
  SeriesPoint v = p;
  v.split = "val";
  v.loss = 5.9;
  s.add_series("a", {p, v});
  CHECK(s.series("a").size() == 2);
  auto val = s.series("a", "val");
  REQUIRE(val.size() == 1);
  CHECK(val[0].loss == 5.9);
  CHECK(val[0].step == 10);

  EvalRow e;
  e.run_id = "a";
  e.task = "arc_challenge";
  e.metric = "acc_norm";
  e.value = 0.25;
  e.stderr_ = 0.01;
  e.n = 200;
  e.shots = 25;
  e.protocol = "leaderboard-v1";
  e.details_json = "{}";
  s.put_evals({e});
  auto ev = s.evals("a");
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].shots == 25);
  CHECK(ev[0].stderr_ == 0.01);

  ProfileRow pr;
  pr.preset = "debug";
  pr.spec_hash = "h";
  pr.device = "cpu";
  pr.dtype = "fp32";
  pr.threads = 2;
  pr.batch = 1;
  pr.seq = 128;
  pr.fwd_median_ms = 1.5;
  pr.per_layer_ms_json = "[0.1]";
  pr.prompt_len = 128;
  pr.decode_tokens = 64;
  pr.ttft_ms = 12.5;
  pr.decode_tok_s = 40;
  pr.decode_tok_s_min = 38;
  pr.decode_tok_s_max = 41;
  pr.decode_peak_mem_bytes = 1 << 20;
  pr.decode_per_layer_ms_json = "[0.2]";
  s.put_profile(pr);
  auto prs = s.profiles("debug");
  REQUIRE(prs.size() == 1);
  CHECK(prs[0].fwd_median_ms == 1.5);
  CHECK(prs[0].prompt_len == 128);
  CHECK(prs[0].decode_tokens == 64);
  CHECK(prs[0].ttft_ms == 12.5);
  CHECK(prs[0].decode_tok_s == 40);
  CHECK(prs[0].decode_tok_s_min == 38);
  CHECK(prs[0].decode_tok_s_max == 41);
  CHECK(prs[0].decode_peak_mem_bytes == 1 << 20);
  CHECK(prs[0].decode_per_layer_ms_json == "[0.2]");
  CHECK(s.profiles("other").empty());

  s.finish_run("a", "finished");
  CHECK(s.is_finished("a"));
  CHECK_FALSE(s.find_run("a")->finished_at.empty());
  CHECK_THROWS(s.finish_run("nope", "finished"));
  CHECK_THROWS(s.finish_run("a", "done"));
}

TEST_CASE("upserts are idempotent: rewriting a key replaces it") {
  ResultsStore s(":memory:");
  s.begin_run(make_run("a"));
  s.put_scalars("a", {{"k", 1}});
  s.put_scalars("a", {{"k", 2}});
  CHECK(s.scalars("a").size() == 1);
  CHECK(s.scalars("a")["k"] == 2);

  SeriesPoint p;
  p.step = 5;
  p.loss = 4;
  s.add_series("a", {p});
  p.loss = 3;  // a resumed run rewriting step 5
  s.add_series("a", {p});
  auto ser = s.series("a");
  REQUIRE(ser.size() == 1);
  CHECK(ser[0].loss == 3);

  EvalRow e;
  e.run_id = "a";
  e.task = "t";
  e.metric = "acc";
  e.value = 0.1;
  s.put_evals({e});
  e.value = 0.2;
  s.put_evals({e});
  REQUIRE(s.evals("a").size() == 1);
  CHECK(s.evals("a")[0].value == 0.2);

  // begin_run on an existing (failed) run resumes it: one row, running again, first start kept.
  s.finish_run("a", "failed");
  RunRow again = make_run("a");
  again.started_at = "2030-01-01T00:00:00Z";
  s.begin_run(again);
  CHECK(s.runs().size() == 1);
  CHECK(s.find_run("a")->status == "running");
  CHECK(s.find_run("a")->started_at == "2026-01-01T00:00:00Z");
}

TEST_CASE("runs filter by sweep, measured tokens/s only from finished runs of the same geometry") {
  ResultsStore s(":memory:");
  s.begin_run(make_run("a", "s1"));
  s.begin_run(make_run("b", "s2"));
  RunRow c = make_run("c", "s2");
  c.geometry = "g2";
  s.begin_run(c);
  CHECK(s.runs().size() == 3);
  CHECK(s.runs("s2").size() == 2);
  s.put_scalars("a", {{"tokens_per_s", 1000}});
  s.put_scalars("b", {{"tokens_per_s", 2000}});
  s.put_scalars("c", {{"tokens_per_s", 3000}});
  CHECK(s.measured_tokens_per_s("g1").empty());  // none finished yet
  s.finish_run("a", "finished");
  s.finish_run("c", "finished");
  auto m = s.measured_tokens_per_s("g1");
  REQUIRE(m.size() == 1);
  CHECK(m[0] == 1000);
}

TEST_CASE("file round trip, reopen, and migration from an empty v0 file") {
  fs::path d = fresh_dir("file");
  fs::path db = d / "r.db";
  { std::ofstream(db.string()); }  // an empty file is a valid sqlite database at user_version 0
  CHECK(fs::file_size(db) == 0);
  CHECK(raw_user_version(db) == 0);
  {
    ResultsStore s(db.string());
    CHECK(s.schema_version() == ResultsStore::kSchemaVersion);
    s.begin_run(make_run("x"));
    s.put_scalars("x", {{"k", 7}});
  }
  CHECK(raw_user_version(db) == ResultsStore::kSchemaVersion);
  ResultsStore s(db.string());  // reopening migrates nothing and keeps the rows
  REQUIRE(s.find_run("x"));
  CHECK(s.scalars("x")["k"] == 7);
}

TEST_CASE("a database newer than this build is refused with the file and both versions") {
  fs::path d = fresh_dir("newer");
  fs::path db = d / "new.db";
  { ResultsStore s(db.string()); }
  sqlite3* raw = nullptr;
  sqlite3_open(db.c_str(), &raw);
  sqlite3_exec(raw, "PRAGMA user_version = 7", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  std::string msg;
  try {
    ResultsStore s(db.string());
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  CHECK(msg.find(db.string()) != std::string::npos);
  CHECK(msg.find("version 7") != std::string::npos);
  CHECK(msg.find("this build's " + std::to_string(ResultsStore::kSchemaVersion)) != std::string::npos);
}

TEST_CASE("runs.world_size is stored per attempt, and a v1 database gains it (1 for its runs)") {
  fs::path d = fresh_dir("world");
  fs::path db = d / "w.db";
  {
    ResultsStore s(db.string());
    auto r = make_run("dp");
    r.world_size = 4;
    s.begin_run(r);
    REQUIRE(s.find_run("dp"));
    CHECK(s.find_run("dp")->world_size == 4);
    s.begin_run(make_run("one"));
  }
  // Back to v1's layout, as a database written before data parallelism (and decode profiles).
  sqlite3* raw = nullptr;
  sqlite3_open(db.c_str(), &raw);
  std::string to_v1 = "ALTER TABLE runs DROP COLUMN world_size;";
  for (const char* c : {"prompt_len", "decode_tokens", "ttft_ms", "decode_tok_s", "decode_tok_s_min", "decode_tok_s_max",
                        "decode_peak_mem_bytes", "decode_per_layer_ms_json"})
    to_v1 += std::string(" ALTER TABLE profiles DROP COLUMN ") + c + ";";
  REQUIRE(sqlite3_exec(raw, (to_v1 + " PRAGMA user_version = 1").c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  ResultsStore s(db.string());
  CHECK(s.schema_version() == ResultsStore::kSchemaVersion);
  CHECK(s.find_run("dp")->world_size == 1);
  CHECK(s.find_run("one")->world_size == 1);
}

TEST_CASE("a process killed inside a write transaction leaves no row") {
  fs::path d = fresh_dir("killed");
  fs::path db = d / "k.db";
  { ResultsStore s(db.string()); }
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    sqlite3* raw = nullptr;
    sqlite3_open(db.c_str(), &raw);
    sharelab::store::sql::write_transaction(raw, [&] {
      sqlite3_exec(raw, "INSERT INTO scalars VALUES ('r', 'k', 1)", nullptr, nullptr, nullptr);
      _exit(0);  // dies before COMMIT, as a SIGKILL would
    });
    _exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  ResultsStore s(db.string());
  CHECK(s.scalars("r").empty());
}

TEST_CASE("two processes writing one database concurrently lose no row") {
  fs::path d = fresh_dir("concurrent");
  const std::string db = (d / "c.db").string();
  constexpr int kRunsEach = 60, kPoints = 5;
  auto writer = [&](const std::string& prefix) {
    ResultsStore s(db);  // both open (and race to migrate) the brand-new file
    for (int i = 0; i < kRunsEach; ++i) {
      const std::string id = prefix + std::to_string(i);
      s.begin_run(make_run(id));
      std::vector<SeriesPoint> pts(kPoints);
      for (int k = 0; k < kPoints; ++k) pts[k].step = k;
      s.add_series(id, pts);
      s.put_scalars(id, {{"i", double(i)}});
      s.finish_run(id, "finished");
    }
  };
  pid_t kids[2];
  for (int k = 0; k < 2; ++k) {
    kids[k] = fork();
    REQUIRE(kids[k] >= 0);
    if (kids[k] == 0) {
      try {
        writer(k == 0 ? "a" : "b");
      } catch (...) {
        _exit(3);
      }
      _exit(0);
    }
  }
  for (pid_t k : kids) {
    int status = 0;
    waitpid(k, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  ResultsStore s(db);
  auto all = s.runs();
  CHECK(all.size() == 2 * kRunsEach);
  size_t points = 0, finished = 0;
  for (const auto& r : all) {
    points += s.series(r.run_id).size();
    finished += r.status == "finished";
  }
  CHECK(points == 2 * kRunsEach * kPoints);
  CHECK(finished == 2 * kRunsEach);
}
