// HDF5 tensor files through the HDF5 C++ API.
#include "arch/h5_tensors.h"

#include <ATen/Parallel.h>
#include <H5Cpp.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>

#include "arch/fast_init.h"  // cast_into
#include "common/errors.h"

namespace sharelab::arch {

namespace {

constexpr const char* kDtypeAttr = "torch_dtype";

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

// The dtype a tensor is stored in: half types widen to float32 (h5py has no bfloat16).
torch::ScalarType storage_type(torch::ScalarType t) {
  return (t == torch::kBFloat16 || t == torch::kFloat16) ? torch::kFloat32 : t;
}

void write_string_attr(H5::H5Object& obj, const std::string& key, const std::string& value) {
  H5::StrType st(H5::PredType::C_S1, value.empty() ? 1 : value.size());
  H5::Attribute a = obj.createAttribute(key, st, H5::DataSpace(H5S_SCALAR));
  a.write(st, value.empty() ? std::string(" ").c_str() : value.c_str());
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

void write_tensor_file(const std::string& path, const TensorFile& f) {
  H5::Exception::dontPrint();
  const std::string tmp = tmp_name(path);
  try {
    H5::H5File file(tmp, H5F_ACC_TRUNC);
    for (const auto& [key, value] : f.attrs) write_string_attr(file, key, value);
    for (const auto& [name, tensor] : f.tensors) {
      auto t = tensor.detach().to(torch::kCPU).to(storage_type(tensor.scalar_type())).contiguous();
      std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
      H5::DataSpace space(int(dims.size()), dims.empty() ? nullptr : dims.data());
      H5::DataSet ds = file.createDataSet(name, h5_type(t.scalar_type()), space);
      ds.write(t.data_ptr(), h5_type(t.scalar_type()));
      write_string_attr(ds, kDtypeAttr, c10::toString(tensor.scalar_type()));
    }
    file.close();
  } catch (const H5::Exception& e) {
    std::remove(tmp.c_str());
    throw std::runtime_error(path + ": HDF5 write failed: " + e.getDetailMsg());
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  commit_file(tmp, path);
}

// --- reading --------------------------------------------------------------------------------

namespace {

constexpr int64_t kPieceBytes = int64_t(8) << 20;  // bytes per parallel read

// Reads exactly n bytes at offset, or says why not.
void pread_all(int fd, char* dst, int64_t n, int64_t offset, const std::string& path, const std::string& name) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, dst, size_t(n), off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      throw ConfigError(path + ": dataset '" + name + "': cannot read: " +
                        (got == 0 ? std::string("the file ends before its data") : std::strerror(errno)));
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
  };
  std::string path;
  std::unique_ptr<H5::H5File> file;
  int fd = -1;
  std::map<std::string, std::string> attrs;
  std::map<std::string, Entry> entries;
  std::map<std::string, Raw> raw;

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
  struct Piece {
    size_t job;
    int64_t first, count;  // elements
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
      if (r.offset >= 0)
        pread_all(m.fd, static_cast<char*>(whole.data_ptr()), numel * int64_t(whole.element_size()), r.offset,
                  m.path, name);
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
                    m.path, name);
          continue;
        }
        if (!staging.defined() || staging.scalar_type() != r.stored || staging.numel() < pc.count)
          staging = torch::empty({std::max(pc.count, kPieceBytes / es)}, torch::TensorOptions().dtype(r.stored));
        auto s = staging.narrow(0, 0, pc.count);
        pread_all(m.fd, static_cast<char*>(s.data_ptr()), pc.count * es, r.offset + pc.first * es, m.path, name);
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
