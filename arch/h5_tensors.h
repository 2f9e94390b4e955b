// Named tensors <-> one HDF5 file, one dataset per tensor (readable with h5py), plus string
// attributes on the root. Writes go to a temporary name, are fsynced and renamed, so a reader never
// sees a half-written file. Errors name the file and the dataset.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "common/atomic_file.h"  // write_file_atomic, commit_file: the same atomic writes for other files

namespace sharelab::arch {

struct TensorFile {
  std::map<std::string, torch::Tensor> tensors;  // CPU, contiguous
  std::map<std::string, std::string> attrs;      // small metadata: format, spec text, ...
};

// Supported dtypes: float32, float64, int64, int32, uint8, bool, bfloat16/float16 (stored as float32
// and tagged so they come back in their own dtype).
void write_tensor_file(const std::string& path, const TensorFile& f);
TensorFile read_tensor_file(const std::string& path);


}  // namespace sharelab::arch
