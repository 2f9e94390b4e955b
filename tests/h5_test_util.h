// Corrupting HDF5 files on purpose (checksum tests): where a dataset's bytes are, and a flipped bit.
#pragma once

#include <doctest/doctest.h>

#include <H5Cpp.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace sharelab::test {

// The byte offset of a contiguous dataset's data in an HDF5 file.
inline uint64_t dataset_offset(const std::string& path, const std::string& name) {
  H5::H5File f(path, H5F_ACC_RDONLY);
  return uint64_t(H5Dget_offset(f.openDataSet(name).getId()));
}

// Flips one bit of the byte at `offset`.
inline void flip_byte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekg(std::streamoff(offset));
  char c = 0;
  f.read(&c, 1);
  c = char(c ^ 0x10);
  f.seekp(std::streamoff(offset));
  f.write(&c, 1);
}

}  // namespace sharelab::test
