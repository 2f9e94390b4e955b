// HDF5 tensor files through the HDF5 C++ API.
#include "arch/h5_tensors.h"

#include <H5Cpp.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

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

TensorFile read_tensor_file(const std::string& path) {
  H5::Exception::dontPrint();
  if (::access(path.c_str(), R_OK) != 0) throw ConfigError(path + ": no such file (expected an HDF5 tensor file)");
  TensorFile out;
  std::string current = "(root)";
  try {
    if (!H5::H5File::isHdf5(path)) throw ConfigError(path + ": not an HDF5 file");
    H5::H5File file(path, H5F_ACC_RDONLY);
    for (int i = 0; i < file.getNumAttrs(); ++i) {
      H5::Attribute a = file.openAttribute(unsigned(i));
      if (a.getTypeClass() == H5T_STRING) out.attrs[a.getName()] = read_string_attr(a);
    }
    for (hsize_t i = 0; i < file.getNumObjs(); ++i) {
      current = file.getObjnameByIdx(i);
      if (file.getObjTypeByIdx(i) != H5G_DATASET) continue;
      H5::DataSet ds = file.openDataSet(current);
      H5::DataSpace space = ds.getSpace();
      std::vector<hsize_t> dims(space.getSimpleExtentNdims());
      space.getSimpleExtentDims(dims.data());
      std::vector<int64_t> shape(dims.begin(), dims.end());
      torch::ScalarType want = torch::kFloat32;
      if (ds.attrExists(kDtypeAttr)) want = dtype_from_name(read_string_attr(ds.openAttribute(kDtypeAttr)), path, current);
      else if (ds.getTypeClass() == H5T_INTEGER) want = torch::kInt64;
      const torch::ScalarType stored = storage_type(want);
      auto t = torch::empty(shape, torch::TensorOptions().dtype(stored));
      ds.read(t.data_ptr(), h5_type(stored));  // HDF5 converts between numeric types on read
      out.tensors[current] = want == stored ? t : t.to(want);
    }
  } catch (const H5::Exception& e) {
    throw ConfigError(path + ": dataset '" + current + "': cannot read: " + e.getDetailMsg());
  }
  return out;
}

}  // namespace sharelab::arch
