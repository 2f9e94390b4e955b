// sqlite3 helpers: statements, error messages with the file name, retried write transactions.
#include "runner/store/sqlite_util.h"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace sharelab::store::sql {

namespace {

std::string db_file(sqlite3* db) {
  const char* f = sqlite3_db_filename(db, "main");
  return (f && *f) ? f : ":memory:";
}

}  // namespace

void check(sqlite3* db, int rc, const std::string& what) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  throw std::runtime_error(db_file(db) + ": " + what + ": " + sqlite3_errmsg(db));
}

void exec(sqlite3* db, const std::string& sql, const std::string& what) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw std::runtime_error(db_file(db) + ": " + what + ": " + msg);
  }
}

Stmt::Stmt(sqlite3* db, const char* sql, const char* what) : db_(db), what_(what) {
  check(db_, sqlite3_prepare_v2(db_, sql, -1, &st_, nullptr), std::string("prepare ") + what_);
}

Stmt::~Stmt() { sqlite3_finalize(st_); }

Stmt& Stmt::bind(int i, const std::string& v) {
  check(db_, sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT), what_);
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  check(db_, sqlite3_bind_double(st_, i, v), what_);
  return *this;
}
Stmt& Stmt::bind(int i, int64_t v) {
  check(db_, sqlite3_bind_int64(st_, i, v), what_);
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(st_);
  check(db_, rc, what_);
  return rc == SQLITE_ROW;
}

void Stmt::run() {
  while (step()) {
  }
}

void Stmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::string Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st_, col))) : std::string();
}
double Stmt::real(int col) const { return sqlite3_column_double(st_, col); }
int64_t Stmt::integer(int col) const { return sqlite3_column_int64(st_, col); }

void exec_when_free(sqlite3* db, const std::string& sql, const std::string& what) {
  // The busy timeout already waits in most cases; this loop covers the BUSY returned without
  // waiting. ~2 minutes in all.
  for (int attempt = 0;; ++attempt) {
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt >= 1200) check(db, rc, what);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void write_transaction(sqlite3* db, const std::function<void()>& fn) {
  exec_when_free(db, "BEGIN IMMEDIATE", "BEGIN IMMEDIATE");
  try {
    fn();
    check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "COMMIT");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace sharelab::store::sql
