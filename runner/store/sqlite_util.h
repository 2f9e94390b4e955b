// Thin RAII helpers over the sqlite3 C API for the results store: prepared statements with typed
// binds and columns, errors that name the database file and the statement, and write
// transactions (BEGIN IMMEDIATE, retried while another process holds the write lock).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>

namespace sharelab::store::sql {

// Throws std::runtime_error "<file>: <what>: <sqlite3_errmsg>" unless rc is one of the ok codes.
void check(sqlite3* db, int rc, const std::string& what);

// Runs SQL without results (schema, pragmas); throws naming `what`.
void exec(sqlite3* db, const std::string& sql, const std::string& what);
// exec, retried on SQLITE_BUSY/LOCKED for ~2 minutes on top of the busy timeout: for statements
// that take the database lock, where SQLite may return BUSY without waiting (BEGIN IMMEDIATE during
// a WAL recovery; switching a brand-new file to WAL while another process does the same).
void exec_when_free(sqlite3* db, const std::string& sql, const std::string& what);

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql, const char* what);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binds are 1-based as in sqlite; each returns *this so calls chain.
  Stmt& bind(int i, const std::string& v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }

  bool step();  // true: a row is available; false: done
  void run();   // step to completion (writes)
  void reset();  // ready for new binds (the statement is reused in loops)

  std::string text(int col) const;
  double real(int col) const;
  int64_t integer(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  const char* what_;
};

// Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows if fn throws. BEGIN is
// retried on SQLITE_BUSY (on top of the busy timeout) so concurrent writers queue, not fail.
void write_transaction(sqlite3* db, const std::function<void()>& fn);

}  // namespace sharelab::store::sql
