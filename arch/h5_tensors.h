// Named tensors <-> one HDF5 file, one dataset per tensor (readable with h5py), plus string
// attributes on the root. Every dataset carries the CRC-32C of its stored bytes (attribute
// "crc32c"); every read verifies it on the bytes it read, and a mismatch is a ConfigError
// "FILE: dataset 'NAME': checksum mismatch (...)": a flipped bit is named, never loaded. Files
// written before checksums (no such attributes) still load, after a one-line note per process.
// The file is built in memory and written with checked system calls (common/atomic_file.h): to a
// temporary name, fsynced and renamed, so a reader never sees a half-written file and a full disk
// names the file and the OS error. Errors name the file and the dataset.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/atomic_file.h"  // write_file_atomic, commit_file: the same atomic writes for other files

namespace sharelab::arch {

struct TensorFile {
  std::map<std::string, torch::Tensor> tensors;  // CPU, contiguous
  std::map<std::string, std::string> attrs;      // small metadata: format, spec text, ...
};

// Supported dtypes: float32, float64, int64, int32, uint8, bool, bfloat16/float16 (stored as float32
// and tagged so they come back in their own dtype). The file's bytes are built in memory (HDF5's core
// driver: no system call can fail there), then written by write_file_atomic: std::runtime_error
// "PATH: write failed ...: OS ERROR" on a full disk, nothing left under any name. Memory: the
// file's size once, beside the tensors.
void write_tensor_file(const std::string& path, const TensorFile& f);
TensorFile read_tensor_file(const std::string& path);

// A tensor file opened for reading: attributes, names, shapes and dtypes first (the checks and
// messages of read_tensor_file), then the data straight into tensors the caller owns. Datasets
// stored contiguous and unfiltered (as write_tensor_file makes them) are read with pread from their
// file offset, in parallel pieces over at::get_num_threads(), into the destination's memory where
// its dtype is the stored one (no staging copy), else through a small per-thread buffer and copy_;
// anything else goes through HDF5 as before. Each dataset's checksum is computed on the bytes as
// read (per piece, in parallel, combined) and checked before read_into returns; on a mismatch the
// destinations hold what was read: discard them.
class TensorFileReader {
 public:
  struct Entry {
    std::vector<int64_t> shape;
    torch::ScalarType dtype;  // the tensor's own dtype (what read_tensor_file returns)
  };
  explicit TensorFileReader(const std::string& path);
  ~TensorFileReader();
  TensorFileReader(const TensorFileReader&) = delete;
  TensorFileReader& operator=(const TensorFileReader&) = delete;

  const std::string& path() const;
  const std::map<std::string, std::string>& attrs() const;
  const std::map<std::string, Entry>& entries() const;  // datasets by name, sorted
  // For each (name, dst): dst.copy_(read_tensor_file(path).tensors[name]), the same values; dst
  // must have the entry's number of elements (any dtype, device and layout).
  void read_into(const std::vector<std::pair<std::string, torch::Tensor>>& jobs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};


}  // namespace sharelab::arch
