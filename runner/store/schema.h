// Schema versions of the results database and the migrations between them. The version lives in
// PRAGMA user_version; migration i takes the schema from version i to i + 1. A new version is one
// new function appended to the list in schema.cpp and kSchemaVersion bumped in results_store.h.
#pragma once

#include <string>

struct sqlite3;

namespace sharelab::store {

// Brings the database to `target`, one step per migration, in one write transaction (a second
// process opening the same new file waits and then finds the work done). A database newer than
// `target` -> ConfigError naming `path` and both versions.
void migrate(sqlite3* db, const std::string& path, int target);

// The check migrate() starts with, alone: it writes nothing.
void check_not_newer(sqlite3* db, const std::string& path, int target);

int schema_version(sqlite3* db);  // PRAGMA user_version

// Number of migration steps this build knows (= the newest version it can create).
int known_schema_versions();

}  // namespace sharelab::store
