// HDF5 shard writing (C++ API) and validated zero-copy reading (HDF5 for the layout, then mmap of
// the contiguous datasets' byte ranges: random row access without an HDF5 call per row).
#include "runner/data/shard_file.h"

#include <H5Cpp.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <mutex>

#include "common/errors.h"
#include "common/atomic_file.h"

namespace sharelab::data {

namespace {

void write_str_attr(H5::H5Object& obj, const std::string& key, const std::string& value) {
  H5::StrType st(H5::PredType::C_S1, std::max<size_t>(1, value.size()));
  obj.createAttribute(key, st, H5::DataSpace(H5S_SCALAR)).write(st, value);
}

constexpr const char* kCrcAttr = "crc32c";

void write_crc_attr(H5::DataSet& ds, const void* data, size_t bytes) {
  const uint32_t crc = arch::crc32c(data, bytes);
  ds.createAttribute(kCrcAttr, H5::PredType::STD_U32LE, H5::DataSpace(H5S_SCALAR)).write(H5::PredType::NATIVE_UINT32, &crc);
}

// The dataset's "crc32c" attribute, if it has one.
bool read_crc_attr(H5::H5File& f, const char* name, uint32_t& crc) {
  H5::DataSet ds = f.openDataSet(name);
  if (!ds.attrExists(kCrcAttr)) return false;
  ds.openAttribute(kCrcAttr).read(H5::PredType::NATIVE_UINT32, &crc);
  return true;
}

// Byte offset and size of a contiguous dataset, checked against the expected dtype and shape.
struct Extent {
  haddr_t offset;
  hsize_t bytes;
};

Extent check_dataset(H5::H5File& f, const std::string& path, const char* name, const std::vector<hsize_t>& shape,
                     size_t width) {
  if (!f.nameExists(name)) throw ConfigError(fmt::format("{}: dataset '{}' missing", path, name));
  H5::DataSet ds = f.openDataSet(name);
  H5::DataType t = ds.getDataType();
  const bool ok_type = t.getClass() == H5T_INTEGER && ds.getIntType().getSign() == H5T_SGN_NONE &&
                       t.getSize() == width && ds.getIntType().getOrder() == H5T_ORDER_LE;
  if (!ok_type)
    throw ConfigError(fmt::format(
        "{}: dataset '{}': dtype is {}-byte {}, expected uint{} (little-endian)", path, name, t.getSize(),
        t.getClass() != H5T_INTEGER                   ? "non-integer"
        : ds.getIntType().getSign() != H5T_SGN_NONE ? "signed"
        : ds.getIntType().getOrder() != H5T_ORDER_LE ? "unsigned big-endian"
                                                      : "unsigned",
        width * 8));
  H5::DataSpace sp = ds.getSpace();
  std::vector<hsize_t> dims(size_t(std::max(0, sp.getSimpleExtentNdims())));
  if (!dims.empty()) sp.getSimpleExtentDims(dims.data());
  if (dims != shape) {
    auto txt = [](const std::vector<hsize_t>& v) { return fmt::format("({}{})", fmt::join(v, ", "), v.size() == 1 ? "," : ""); };
    throw ConfigError(
        fmt::format("{}: dataset '{}': shape {}, expected {} (from manifest.json)", path, name, txt(dims), txt(shape)));
  }
  if (ds.getCreatePlist().getLayout() != H5D_CONTIGUOUS)
    throw ConfigError(fmt::format("{}: dataset '{}': layout must be contiguous and uncompressed", path, name));
  haddr_t off = H5Dget_offset(ds.getId());
  hsize_t bytes = ds.getStorageSize();
  if (off == HADDR_UNDEF && bytes > 0)
    throw ConfigError(fmt::format("{}: dataset '{}': storage not allocated", path, name));
  return {off, bytes};
}

}  // namespace

ShardWriter::ShardWriter(std::string dir, int split, int64_t seq_len, std::string dtype, int64_t rows_per_shard)
    : dir_(std::move(dir)),
      split_(split),
      cols_(seq_len + 1),
      dtype_(std::move(dtype)),
      rows_per_shard_(std::max<int64_t>(1, rows_per_shard)) {
  tokens_.reserve(size_t(rows_per_shard_ * cols_));
}

void ShardWriter::add_row(const uint32_t* tokens, uint16_t source) {
  tokens_.insert(tokens_.end(), tokens, tokens + cols_);
  source_.push_back(source);
  if (int64_t(source_.size()) == rows_per_shard_) flush();
}

void ShardWriter::finish() {
  if (!source_.empty()) flush();
}

void ShardWriter::flush() {
  const std::string name = fmt::format("{}-{:05d}.h5", split_name(split_), shards_.size());
  const std::string final_path = dir_ + "/" + name;
  const hsize_t rows = source_.size();
  // The shard's bytes are built in memory (HDF5's core driver: no system call can fail there), then
  // written with checked system calls: a full disk names the file and the OS error, and no partial
  // shard is left under any name.
  std::string image;
  try {
    H5::Exception::dontPrint();
    H5::FileAccPropList fapl;
    const size_t bytes = tokens_.size() * (dtype_ == "uint16" ? 2 : 4) + source_.size() * 2 + (size_t(1) << 16);
    fapl.setCore(bytes, /*backing_store=*/false);
    H5::H5File f(final_path + ".in-memory", H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, fapl);
    write_str_attr(f, "format", kShardFormat);
    write_str_attr(f, "split", split_name(split_));
    const hsize_t tdims[2] = {rows, hsize_t(cols_)};
    if (dtype_ == "uint16") {
      std::vector<uint16_t> narrow(tokens_.begin(), tokens_.end());
      H5::DataSet ds = f.createDataSet("tokens", H5::PredType::STD_U16LE, H5::DataSpace(2, tdims));
      ds.write(narrow.data(), H5::PredType::NATIVE_UINT16);
      write_crc_attr(ds, narrow.data(), narrow.size() * sizeof(uint16_t));  // little-endian hosts: the stored bytes
    } else {
      H5::DataSet ds = f.createDataSet("tokens", H5::PredType::STD_U32LE, H5::DataSpace(2, tdims));
      ds.write(tokens_.data(), H5::PredType::NATIVE_UINT32);
      write_crc_attr(ds, tokens_.data(), tokens_.size() * sizeof(uint32_t));
    }
    const hsize_t sdims[1] = {rows};
    H5::DataSet src = f.createDataSet("source", H5::PredType::STD_U16LE, H5::DataSpace(1, sdims));
    src.write(source_.data(), H5::PredType::NATIVE_UINT16);
    write_crc_attr(src, source_.data(), source_.size() * sizeof(uint16_t));
    f.flush(H5F_SCOPE_GLOBAL);
    const ssize_t n = H5Fget_file_image(f.getId(), nullptr, 0);
    if (n <= 0 || (image.resize(size_t(n)), H5Fget_file_image(f.getId(), &image[0], image.size()) != n))
      throw std::runtime_error(final_path + ": HDF5 could not copy the shard's in-memory image");
    f.close();
  } catch (const H5::Exception& e) {
    throw std::runtime_error(fmt::format("{}: HDF5 could not build the shard in memory: {}", final_path, e.getDetailMsg()));
  }
  arch::write_file_atomic(final_path, image);  // temp + checked writes + fsync + rename
  shards_.push_back({name, split_, int64_t(rows)});
  tokens_.clear();
  source_.clear();
}

ShardView::ShardView(ShardView&& o) noexcept {
  *this = std::move(o);
}
ShardView& ShardView::operator=(ShardView&& o) noexcept {
  std::swap(path, o.path), std::swap(rows, o.rows), std::swap(cols, o.cols), std::swap(width, o.width);
  std::swap(tokens, o.tokens), std::swap(source, o.source), std::swap(map, o.map), std::swap(map_len, o.map_len);
  std::swap(has_crc, o.has_crc), std::swap(tokens_crc, o.tokens_crc), std::swap(source_crc, o.source_crc);
  return *this;
}
ShardView::~ShardView() {
  if (map) ::munmap(map, map_len);
}

ShardView open_shard(const std::string& path, int64_t expected_rows, int64_t cols, const std::string& dtype) {
  ShardView v;
  v.path = path;
  v.rows = expected_rows;
  v.cols = cols;
  v.width = dtype == "uint32" ? 4 : 2;
  Extent tok{}, src{};
  {
    H5::Exception::dontPrint();
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw ConfigError(path + ": shard listed in manifest.json is missing");
    try {
      H5::H5File f(path, H5F_ACC_RDONLY);
      tok = check_dataset(f, path, "tokens", {hsize_t(expected_rows), hsize_t(cols)}, size_t(v.width));
      src = check_dataset(f, path, "source", {hsize_t(expected_rows)}, 2);
      const bool tok_crc = read_crc_attr(f, "tokens", v.tokens_crc), src_crc = read_crc_attr(f, "source", v.source_crc);
      if (tok_crc != src_crc)
        throw ConfigError(fmt::format("{}: dataset '{}' has no '{}' attribute but '{}' has (written by another tool?)",
                                      path, tok_crc ? "source" : "tokens", kCrcAttr, tok_crc ? "tokens" : "source"));
      v.has_crc = tok_crc;
    } catch (const H5::Exception& e) {
      throw ConfigError(fmt::format("{}: not a readable HDF5 shard: {}", path, e.getDetailMsg()));
    }
  }
  if (expected_rows == 0) return v;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw ConfigError(path + ": cannot open shard");
  struct stat st;
  ::fstat(fd, &st);
  v.map_len = size_t(st.st_size);
  if (tok.offset + tok.bytes > v.map_len || src.offset + src.bytes > v.map_len) {
    ::close(fd);
    throw ConfigError(path + ": dataset extends past the end of the file (truncated shard?)");
  }
  v.map = ::mmap(nullptr, v.map_len, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (v.map == MAP_FAILED) {
    v.map = nullptr;
    throw std::runtime_error(path + ": mmap failed");
  }
  v.tokens = static_cast<const uint8_t*>(v.map) + tok.offset;
  // HDF5 places datasets at aligned offsets in practice; copy-free access needs 2-byte alignment.
  if (src.offset % 2 != 0) throw std::runtime_error(path + ": 'source' dataset is not 2-byte aligned");
  v.source = reinterpret_cast<const uint16_t*>(static_cast<const uint8_t*>(v.map) + src.offset);
  return v;
}

void verify_shard(const ShardView& v) {
  if (!v.has_crc) {
    static std::once_flag once;
    std::call_once(once, [&] {
      std::cerr << fmt::format("note: {}: shards written before checksums (no '{}' attribute); their tokens are not "
                               "verified\n",
                               v.path, kCrcAttr);
    });
    return;
  }
  auto check = [&](const char* name, const void* data, size_t bytes, uint32_t want) {
    const uint32_t got = arch::crc32c(data, bytes);
    if (got != want)
      throw ConfigError(fmt::format("{}: dataset '{}': checksum mismatch (crc32c stored {:08x}, computed {:08x}): the "
                                    "shard is corrupt; refusing to train on it (prepare the data again)",
                                    v.path, name, want, got));
  };
  check("tokens", v.tokens, size_t(v.rows * v.cols * v.width), v.tokens_crc);
  check("source", v.source, size_t(v.rows) * sizeof(uint16_t), v.source_crc);
}

}  // namespace sharelab::data
