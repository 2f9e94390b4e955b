// Atomic file commits, shared by every library (torch-free): write to a temporary name in the same
// folder, fsync, rename, fsync the folder, so a reader never sees a half-written file.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace sharelab::arch {

void commit_file(const std::string& tmp_path, const std::string& final_path);
// Temporary name for `path` owned by this process.
std::string tmp_name(const std::string& path);
void write_file_atomic(const std::string& path, const std::string& bytes);
// The same for files too large to hold in memory: `fill` streams the bytes. On any exception, or a
// stream that failed (disk full), the temporary file is removed and nothing appears at `path`.
// ConfigError when the file cannot be created (no such folder), std::runtime_error when a write fails.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& fill);

}  // namespace sharelab::arch
