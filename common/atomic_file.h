// Atomic file commits, shared by every library (torch-free): write to a temporary name in the same
// folder, fsync, rename, fsync the folder, so a reader never sees a half-written file. Every system
// call is checked: a full disk (ENOSPC), a file-size limit (EFBIG) or an I/O error throws one line
// naming the final path, the failed step and the OS error, removes the temporary file and leaves
// whatever was at the final path untouched. Also CRC-32C, the payload checksum of tensor
// files (checkpoints, weights: arch/h5_tensors.h) and shards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace sharelab::arch {

// Renames `tmp_path` (fsynced first) over `final_path`; std::runtime_error naming both and the OS
// error when the fsync or the rename fails (the temporary file is removed then).
void commit_file(const std::string& tmp_path, const std::string& final_path);
// Temporary name for `path` owned by this process. The newest one is remembered until
// commit_file() so that an immediate exit (common/stop_signal.h) can remove it
// (remove_pending_tmp()).
std::string tmp_name(const std::string& path);
void write_file_atomic(const std::string& path, const std::string& bytes);
void write_file_atomic(const std::string& path, const void* data, size_t size);
// The same for files too large to hold in memory: `fill` streams the bytes. On any exception, or a
// stream that failed (disk full), the temporary file is removed and nothing appears at `path`.
// ConfigError when the file cannot be created (no such folder), std::runtime_error when a write fails.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& fill);
// Async-signal-safe: unlinks the temporary file being written now, if any (an immediate exit on a
// second stop signal leaves no stray temporary file; the final names are never touched).
void remove_pending_tmp();

// CRC-32C (Castagnoli, the iSCSI / ext4 polynomial); `crc` chains calls:
// crc32c(b, nb, crc32c(a, na)) == crc32c(a + b). crc32c("123456789") == 0xE3069283.
// x86-64 CPUs with SSE4.2 (checked at run time) use the crc32 instruction on three interleaved
// streams (~20 GB/s per core); elsewhere slicing-by-8 tables (~1.5 GB/s).
uint32_t crc32c(const void* data, size_t len, uint32_t crc = 0);
// The CRC-32C of a + b from crc32c(a) and crc32c(b) (len_b bytes): pieces checksummed in parallel
// combine into the checksum of the whole.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
// The table implementation alone (what crc32c computes without SSE4.2), for tests.
uint32_t crc32c_portable(const void* data, size_t len, uint32_t crc = 0);

}  // namespace sharelab::arch
