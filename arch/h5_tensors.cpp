// HDF5 tensor files through the HDF5 C++ API.
#include "arch/h5_tensors.h"

#include <ATen/Parallel.h>
#include <H5Cpp.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <mutex>

#include "arch/fast_init.h"  // cast_into
#include "common/errors.h"

namespace sharelab::arch {

namespace {

constexpr const char* kDtypeAttr = "torch_dtype";
constexpr const char* kCrcAttr = "crc32c";  // on every dataset: CRC-32C of its stored bytes

H5::PredType h5_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return H5::PredType::NATIVE_FLOAT;
    case torch::kFloat64: return H5::PredType::NATIVE_DOUBLE;
    case torch::kInt64: return H5::PredType::NATIVE_INT64;
    case torch::kInt32: return H5::PredType::NATIVE_INT32;
    case torch::kUInt8: return H5::PredType::NATIVE_UINT8;
    case torch::kBool: return H5::PredType::NATIVE_UINT8;
    default: throw std::runtime_error(std::string("unsupported tensor dtype ") + c10::toString(t));
  }
}

// The same through the C API (the in-memory writer).
hid_t h5_native(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return H5T_NATIVE_FLOAT;
    case torch::kFloat64: return H5T_NATIVE_DOUBLE;
    case torch::kInt64: return H5T_NATIVE_INT64;
    case torch::kInt32: return H5T_NATIVE_INT32;
    case torch::kUInt8:
    case torch::kBool: return H5T_NATIVE_UINT8;
    default: throw std::runtime_error(std::string("unsupported tensor dtype ") + c10::toString(t));
  }
}

// The dtype a tensor is stored in: half types widen to float32 (h5py has no bfloat16).
torch::ScalarType storage_type(torch::ScalarType t) {
  return (t == torch::kBFloat16 || t == torch::kFloat16) ? torch::kFloat32 : t;
}

std::string read_string_attr(const H5::Attribute& a) {
  std::string v;
  a.read(a.getStrType(), v);
  return v;
}

torch::ScalarType dtype_from_name(const std::string& name, const std::string& path, const std::string& ds) {
  for (auto t : {torch::kFloat32, torch::kFloat64, torch::kInt64, torch::kInt32, torch::kUInt8, torch::kBool,
                 torch::kBFloat16, torch::kFloat16})
    if (name == c10::toString(t)) return t;
  throw ConfigError(path + ": dataset '" + ds + "' has unknown torch_dtype '" + name + "'");
}

}  // namespace

// --- writing: the file's bytes built in memory --------------------------------------------

namespace {

// A tensor as stored: CPU, contiguous, half types widened to float32 (bool stays 1 byte, uint8 on disk).
torch::Tensor stored(const torch::Tensor& t) {
  return t.detach().to(torch::kCPU).to(storage_type(t.scalar_type())).contiguous();
}

uint32_t crc_of(const torch::Tensor& stored_tensor) {
  return crc32c(stored_tensor.data_ptr(), size_t(stored_tensor.numel()) * stored_tensor.element_size());
}

// An HDF5 identifier closed when it goes out of scope; every creation is checked.
class Hid {
 public:
  Hid(hid_t id, herr_t (*close)(hid_t), const std::string& what, const std::string& path) : id_(id), close_(close) {
    if (id_ < 0) throw std::runtime_error(path + ": HDF5 could not " + what + " (building the file in memory)");
  }
  ~Hid() { close_(id_); }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void check(herr_t rc, const std::string& what, const std::string& path) {
  if (rc < 0) throw std::runtime_error(path + ": HDF5 could not " + what + " (building the file in memory)");
}

void string_attr(hid_t obj, const std::string& key, const std::string& value, const std::string& path) {
  const std::string v = value.empty() ? " " : value;
  Hid type(H5Tcopy(H5T_C_S1), H5Tclose, "copy a string type", path);
  check(H5Tset_size(type, v.size()), "size a string type", path);
  Hid space(H5Screate(H5S_SCALAR), H5Sclose, "create a dataspace", path);
  Hid a(H5Acreate2(obj, key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, "create attribute '" + key + "'",
        path);
  check(H5Awrite(a, type, v.c_str()), "write attribute '" + key + "'", path);
}

// The image's memory: HDF5's core driver allocates and grows it through these callbacks and leaves
// it to us when the file closes, so the bytes are written from where HDF5 built them (one copy of
// the file in memory, not two).
struct ImageMemory {
  void* ptr = nullptr;
  size_t size = 0;
  ImageMemory() = default;
  ImageMemory(const ImageMemory&) = delete;
  ImageMemory& operator=(const ImageMemory&) = delete;
  ~ImageMemory() { std::free(ptr); }
};

extern "C" {
static void* image_malloc(size_t size, H5FD_file_image_op_t, void* udata) {
  auto* m = static_cast<ImageMemory*>(udata);
  void* p = std::malloc(size);
  if (p && !m->ptr) m->ptr = p, m->size = size;
  return p;
}
static void* image_memcpy(void* dst, const void* src, size_t size, H5FD_file_image_op_t, void*) {
  return std::memcpy(dst, src, size);
}
static void* image_realloc(void* ptr, size_t size, H5FD_file_image_op_t, void* udata) {
  auto* m = static_cast<ImageMemory*>(udata);
  void* p = std::realloc(ptr, size);
  if (p && (ptr == m->ptr || !m->ptr)) m->ptr = p, m->size = size;
  return p;
}
static herr_t image_free(void* ptr, H5FD_file_image_op_t op, void* udata) {
  auto* m = static_cast<ImageMemory*>(udata);
  if (ptr == m->ptr && op == H5FD_FILE_IMAGE_OP_FILE_CLOSE) return 0;  // ours now (~ImageMemory frees it)
  if (ptr == m->ptr) m->ptr = nullptr, m->size = 0;
  std::free(ptr);
  return 0;
}
static void* image_udata_copy(void* udata) { return udata; }
static herr_t image_udata_free(void*) { return 0; }
}

}  // namespace

void write_tensor_file(const std::string& path, const TensorFile& f) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  ImageMemory mem;  // outlives the file: HDF5 hands the buffer over when `file` closes
  size_t image_len = 0;
  {
    size_t bytes = 1 << 20;  // the core driver's allocation step: the whole file, estimated
    for (const auto& [name, t] : f.tensors)
      bytes += size_t(t.numel()) * c10::elementSize(storage_type(t.scalar_type())) + 1024;
    Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "create a file access list", path);
    check(H5Pset_fapl_core(fapl, bytes, /*backing_store=*/0), "select the in-memory driver", path);
    H5FD_file_image_callbacks_t callbacks = {image_malloc,     image_memcpy,     image_realloc, image_free,
                                             image_udata_copy, image_udata_free, &mem};
    check(H5Pset_file_image_callbacks(fapl, &callbacks), "set the in-memory driver's allocator", path);
    const std::string mem_name = path + ".in-memory";  // a name for HDF5 only: nothing is written there
    Hid file(H5Fcreate(mem_name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose, "create the file", path);
    for (const auto& [key, value] : f.attrs) string_attr(file, key, value, path);
    for (const auto& [name, tensor] : f.tensors) {
      const torch::Tensor t = stored(tensor);
      const hid_t type = h5_native(t.scalar_type());
      std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
      Hid space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                H5Sclose, "create the dataspace of '" + name + "'", path);
      Hid ds(H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
             "create dataset '" + name + "'", path);
      if (t.numel() > 0)
        check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()), "write dataset '" + name + "'", path);
      string_attr(ds, kDtypeAttr, c10::toString(tensor.scalar_type()), path);
      const uint32_t crc = crc_of(t);  // little-endian hosts: the bytes as stored
      Hid sp1(H5Screate(H5S_SCALAR), H5Sclose, "create a dataspace", path);
      Hid a(H5Acreate2(ds, kCrcAttr, H5T_STD_U32LE, sp1, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
            "create the checksum of '" + name + "'", path);
      check(H5Awrite(a, H5T_NATIVE_UINT32, &crc), "write the checksum of '" + name + "'", path);
    }
    check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flush the file", path);
    const ssize_t n = H5Fget_file_image(file, nullptr, 0);  // the file's length (its end of allocation)
    if (n <= 0) throw std::runtime_error(path + ": HDF5 could not size the file's image");
    image_len = size_t(n);
  }  // closed: the image is complete in mem
  static const char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  if (!mem.ptr || mem.size < image_len || std::memcmp(mem.ptr, kSignature, 8) != 0)
    throw std::runtime_error(path + ": HDF5's in-memory image is not where it should be (an HDF5 version whose core "
                                    "driver ignores the image callbacks?)");
  write_file_atomic(path, mem.ptr, image_len);  // temp + checked writes + fsync + rename
}

// --- reading --------------------------------------------------------------------------------

namespace {

constexpr int64_t kPieceBytes = int64_t(8) << 20;  // bytes per parallel read

constexpr int64_t kCrcChunk = int64_t(256) << 10;  // bytes per read while checksumming: still in L2 for the CRC

// Reads exactly n bytes at offset, or says why not. With `crc`: in reads of kCrcChunk bytes, each
// checksummed right after it lands (chained into *crc), so the CRC costs no second trip to memory.
void pread_all(int fd, char* dst, int64_t n, int64_t offset, const std::string& path, const std::string& name,
               uint32_t* crc = nullptr) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, dst, size_t(crc ? std::min(n, kCrcChunk) : n), off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      throw ConfigError(path + ": dataset '" + name + "': cannot read: " +
                        (got == 0 ? std::string("the file ends before its data") : std::strerror(errno)));
    if (crc) *crc = crc32c(dst, size_t(got), *crc);
    dst += got;
    n -= got;
    offset += got;
  }
}

}  // namespace

struct TensorFileReader::Impl {
  struct Raw {
    int64_t offset = -1;  // file offset of the contiguous data; -1: read through HDF5
    torch::ScalarType stored;
    bool has_crc = false;  // the dataset carries "crc32c"
    uint32_t crc = 0;
  };
  std::string path;
  std::unique_ptr<H5::H5File> file;
  int fd = -1;
  std::map<std::string, std::string> attrs;
  std::map<std::string, Entry> entries;
  std::map<std::string, Raw> raw;
  bool any_crc = false;  // false: a file from before checksums (nothing to verify)

  ~Impl() {
    if (fd >= 0) ::close(fd);
  }

  // The stored data through HDF5 (which converts between numeric types on read).
  torch::Tensor read_h5(const std::string& name) {
    try {
      H5::DataSet ds = file->openDataSet(name);
      const Entry& e = entries.at(name);
      const torch::ScalarType stored = storage_type(e.dtype);
      auto t = torch::empty(e.shape, torch::TensorOptions().dtype(stored));
      ds.read(t.data_ptr(), h5_type(stored));
      return t;
    } catch (const H5::Exception& ex) {
      throw ConfigError(path + ": dataset '" + name + "': cannot read: " + ex.getDetailMsg());
    }
  }

  // The bytes read (`got`: their CRC-32C) against the dataset's stored checksum.
  void verify(const std::string& name, uint32_t got) const {
    const Raw& r = raw.at(name);
    if (!r.has_crc || got == r.crc) return;
    char buf[96];
    std::snprintf(buf, sizeof buf, "(crc32c stored %08x, computed %08x)", r.crc, got);
    throw ConfigError(path + ": dataset '" + name + "': checksum mismatch " + buf +
                      ": the file is corrupt (a flipped bit on disk or in a copy); refusing it");
  }
};

TensorFileReader::TensorFileReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  H5::Exception::dontPrint();
  Impl& m = *impl_;
  m.path = path;
  if (::access(path.c_str(), R_OK) != 0) throw ConfigError(path + ": no such file (expected an HDF5 tensor file)");
  std::string current = "(root)";
  try {
    if (!H5::H5File::isHdf5(path)) throw ConfigError(path + ": not an HDF5 file");
    m.file = std::make_unique<H5::H5File>(path, H5F_ACC_RDONLY);
    const bool userblock = m.file->getCreatePlist().getUserblock() != 0;
    for (int i = 0; i < m.file->getNumAttrs(); ++i) {
      H5::Attribute a = m.file->openAttribute(unsigned(i));
      if (a.getTypeClass() == H5T_STRING) m.attrs[a.getName()] = read_string_attr(a);
    }
    for (hsize_t i = 0; i < m.file->getNumObjs(); ++i) {
      current = m.file->getObjnameByIdx(i);
      if (m.file->getObjTypeByIdx(i) != H5G_DATASET) continue;
      H5::DataSet ds = m.file->openDataSet(current);
      H5::DataSpace space = ds.getSpace();
      std::vector<hsize_t> dims(space.getSimpleExtentNdims());
      space.getSimpleExtentDims(dims.data());
      Entry e{std::vector<int64_t>(dims.begin(), dims.end()), torch::kFloat32};
      if (ds.attrExists(kDtypeAttr)) e.dtype = dtype_from_name(read_string_attr(ds.openAttribute(kDtypeAttr)), path, current);
      else if (ds.getTypeClass() == H5T_INTEGER) e.dtype = torch::kInt64;
      Impl::Raw r{-1, storage_type(e.dtype)};
      if (ds.attrExists(kCrcAttr)) {
        r.has_crc = true;
        ds.openAttribute(kCrcAttr).read(H5::PredType::NATIVE_UINT32, &r.crc);
      }
      // Raw reads: contiguous, unfiltered, stored exactly as the memory type, allocated, no userblock.
      int64_t numel = 1;
      for (auto d : e.shape) numel *= d;
      const auto plist = ds.getCreatePlist();
      const haddr_t at = H5Dget_offset(ds.getId());
      if (!userblock && numel > 0 && !e.shape.empty() && plist.getLayout() == H5D_CONTIGUOUS &&
          plist.getNfilters() == 0 && ds.getDataType() == h5_type(r.stored) && at != HADDR_UNDEF &&
          int64_t(ds.getStorageSize()) == numel * int64_t(c10::elementSize(r.stored)))
        r.offset = int64_t(at);
      m.entries[current] = std::move(e);
      m.raw[current] = r;
    }
  } catch (const H5::Exception& e) {
    throw ConfigError(path + ": dataset '" + current + "': cannot read: " + e.getDetailMsg());
  }
  // Every dataset carries a checksum, or none does (a file from before checksums).
  for (const auto& [name, r] : m.raw) m.any_crc = m.any_crc || r.has_crc;
  for (const auto& [name, r] : m.raw)
    if (m.any_crc && !r.has_crc)
      throw ConfigError(path + ": dataset '" + name + "' has no '" + kCrcAttr +
                        "' attribute, unlike the others (a dataset added by another tool?); refusing the file");
  m.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m.fd < 0) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  // Check the raw offsets against HDF5 on each dataset's first element (cheap; a mismatch, which
  // should not happen, falls back to HDF5 reads).
  for (auto& [name, r] : m.raw) {
    if (r.offset < 0) continue;
    const size_t es = c10::elementSize(r.stored);
    char via_h5[16] = {}, via_raw[16] = {};
    try {
      H5::DataSet ds = m.file->openDataSet(name);
      H5::DataSpace fspace = ds.getSpace();
      const int nd = fspace.getSimpleExtentNdims();
      std::vector<hsize_t> start(size_t(nd), 0), count(size_t(nd), 1);
      fspace.selectHyperslab(H5S_SELECT_SET, count.data(), start.data());
      const hsize_t one = 1;
      H5::DataSpace mspace(1, &one);
      ds.read(via_h5, h5_type(r.stored), mspace, fspace);
    } catch (const H5::Exception& e) {
      throw ConfigError(path + ": dataset '" + name + "': cannot read: " + e.getDetailMsg());
    }
    pread_all(m.fd, via_raw, int64_t(es), r.offset, path, name);
    if (std::memcmp(via_h5, via_raw, es) != 0) r.offset = -1;
  }
}

TensorFileReader::~TensorFileReader() = default;

const std::string& TensorFileReader::path() const { return impl_->path; }
const std::map<std::string, std::string>& TensorFileReader::attrs() const { return impl_->attrs; }
const std::map<std::string, TensorFileReader::Entry>& TensorFileReader::entries() const { return impl_->entries; }

void TensorFileReader::read_into(const std::vector<std::pair<std::string, torch::Tensor>>& jobs) {
  torch::NoGradGuard no_grad;
  Impl& m = *impl_;
  if (!m.any_crc && !jobs.empty()) {
    static std::once_flag once;
    std::call_once(once, [&] {
      std::cerr << "note: " << m.path << ": written before tensor files carried checksums (no '" << kCrcAttr
                << "' attributes); loaded unverified\n";
    });
  }
  struct Piece {
    size_t job;
    int64_t first, count;  // elements
    uint32_t crc = 0;      // of the piece's stored bytes, as read
  };
  std::vector<Piece> pieces;
  std::vector<torch::Tensor> dst(jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    const auto& [name, t] = jobs[j];
    const Entry& e = m.entries.at(name);
    const Impl::Raw& r = m.raw.at(name);
    int64_t numel = 1;
    for (auto d : e.shape) numel *= d;
    TORCH_CHECK(t.numel() == numel, m.path, ": dataset '", name, "' has ", numel, " elements, the destination ",
                t.numel());
    dst[j] = t.detach();
    if (r.offset < 0 || !t.is_cpu() || !t.is_contiguous()) {  // through HDF5 (or a CPU copy) as before
      auto whole = r.offset < 0 ? m.read_h5(name) : torch::empty(e.shape, torch::TensorOptions().dtype(r.stored));
      const size_t bytes = size_t(numel) * whole.element_size();
      uint32_t crc = 0;
      if (r.offset >= 0)
        pread_all(m.fd, static_cast<char*>(whole.data_ptr()), int64_t(bytes), r.offset, m.path, name,
                  r.has_crc ? &crc : nullptr);
      else if (r.has_crc)
        crc = crc32c(whole.data_ptr(), bytes);
      if (r.has_crc) m.verify(name, crc);
      dst[j].copy_(e.dtype == r.stored ? whole : whole.to(e.dtype));
      continue;
    }
    const int64_t per = std::max<int64_t>(1, kPieceBytes / int64_t(c10::elementSize(r.stored)));
    for (int64_t first = 0; first < numel; first += per) pieces.push_back({j, first, std::min(per, numel - first)});
  }
  std::mutex mu;
  std::exception_ptr error;
  std::atomic<size_t> next{0};  // pieces handed out one at a time: no thread idles while another lags
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
    torch::NoGradGuard no_grad_here;  // grad mode is per thread
    try {
      torch::Tensor staging;
      for (size_t p = next++; p < pieces.size(); p = next++) {
        const Piece& pc = pieces[p];
        const std::string& name = jobs[pc.job].first;
        const Impl::Raw& r = m.raw.at(name);
        const Entry& en = m.entries.at(name);
        const int64_t es = int64_t(c10::elementSize(r.stored));
        torch::Tensor& d = dst[pc.job];
        if (d.scalar_type() == r.stored && en.dtype == r.stored) {  // straight into the destination
          pread_all(m.fd, static_cast<char*>(d.data_ptr()) + pc.first * es, pc.count * es, r.offset + pc.first * es,
                    m.path, name, r.has_crc ? &pieces[p].crc : nullptr);
          continue;
        }
        if (!staging.defined() || staging.scalar_type() != r.stored || staging.numel() < pc.count)
          staging = torch::empty({std::max(pc.count, kPieceBytes / es)}, torch::TensorOptions().dtype(r.stored));
        auto s = staging.narrow(0, 0, pc.count);
        pread_all(m.fd, static_cast<char*>(s.data_ptr()), pc.count * es, r.offset + pc.first * es, m.path, name,
                  r.has_crc ? &pieces[p].crc : nullptr);
        // One rounding into d's dtype, as read_tensor_file's .to(dtype) then copy_ (fp32 -> bf16: the same
        // cast either way), without a temporary per piece.
        const bool direct = en.dtype == r.stored || en.dtype == d.scalar_type();
        auto piece = d.view({-1}).narrow(0, pc.first, pc.count);
        cast_into(piece, direct ? s : s.to(en.dtype));
      }
    } catch (...) {
      next = pieces.size();  // the others stop too
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
  });
  if (error) std::rethrow_exception(error);
  // Each dataset's pieces (consecutive, in order) combine into the checksum of all its bytes.
  for (size_t p = 0; p < pieces.size();) {
    const size_t j = pieces[p].job;
    const std::string& name = jobs[j].first;
    const Impl::Raw& r = m.raw.at(name);
    const int64_t es = int64_t(c10::elementSize(r.stored));
    uint32_t crc = pieces[p].crc;
    for (++p; p < pieces.size() && pieces[p].job == j; ++p)
      crc = crc32c_combine(crc, pieces[p].crc, uint64_t(pieces[p].count * es));
    if (r.has_crc) m.verify(name, crc);
  }
}

TensorFile read_tensor_file(const std::string& path) {
  TensorFileReader reader(path);
  TensorFile out;
  out.attrs = reader.attrs();
  std::vector<std::pair<std::string, torch::Tensor>> jobs;
  for (const auto& [name, e] : reader.entries()) {
    out.tensors[name] = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
    jobs.emplace_back(name, out.tensors[name]);
  }
  reader.read_into(jobs);
  return out;
}

}  // namespace sharelab::arch
