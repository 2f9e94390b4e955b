// Atomic file commits, shared by every library (torch-free): write to a temporary name in the same
// folder, fsync, rename, fsync the folder, so a reader never sees a half-written file.
#pragma once

#include <string>

namespace sharelab::arch {

void commit_file(const std::string& tmp_path, const std::string& final_path);
// Temporary name for `path` owned by this process.
std::string tmp_name(const std::string& path);
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace sharelab::arch
