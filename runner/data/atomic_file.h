// Atomic file commits for the torch-free data library (arch/h5_tensors.h has the same helpers but
// pulls in LibTorch): write to a temporary name, fsync, rename, fsync the folder.
#pragma once

#include <string>

namespace sharelab::data {

void commit_file(const std::string& tmp_path, const std::string& final_path);
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace sharelab::data
