// Checkpoint files: save (built in memory, checksummed, written atomically), find the latest,
// verify and load.
#include "runner/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <H5Cpp.h>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <sys/stat.h>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "arch/weights.h"

namespace sharelab::train {

namespace {

const std::string kOptPrefix = "optim.";
const std::string kStatePrefix = "state.";
const std::string kRngKey = "rng.torch_cpu";

std::string ckpt_name(int64_t step) { return fmt::format("ckpt-{:09d}.h5", step); }

torch::Tensor f64(double v) { return torch::tensor({v}, torch::kFloat64); }
torch::Tensor i64(int64_t v) { return torch::tensor({v}, torch::kInt64); }

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const torch::Tensor& need(const arch::TensorFile& f, const std::string& key, const std::string& path) {
  auto it = f.tensors.find(key);
  if (it == f.tensors.end()) throw ConfigError(path + ": checkpoint has no dataset '" + key + "'");
  return it->second;
}

// No NaN or inf reaches a checkpoint: a run that diverged keeps its last good one.
void check_finite(const arch::TensorFile& f, const std::string& path, int64_t step) {
  for (const auto& [name, t] : f.tensors) {
    if (!t.is_floating_point() || name.rfind(kStatePrefix, 0) == 0) continue;
    if (!torch::isfinite(t).all().item<bool>())
      throw std::runtime_error(fmt::format("{}: not written: dataset '{}' holds NaN or inf at step {}; the previous "
                                           "checkpoint and 'latest' are kept",
                                           path, name, step));
  }
}

}  // namespace

std::string save_checkpoint(const std::string& run_dir, arch::CausalLM& model, const AdamW& opt,
                            const LoopState& s, const std::string& config_json) {
  arch::TensorFile f;
  f.attrs["format"] = kCheckpointFormat;
  f.attrs["config_json"] = config_json;
  f.attrs["spec"] = arch::spec_to_text(model->spec());
  for (const auto& [name, t] : arch::native_state(model)) f.tensors[name] = t.detach().cpu();
  for (const auto& slot : opt.slots()) {
    f.tensors[kOptPrefix + "exp_avg." + slot.name] = slot.exp_avg.cpu();
    f.tensors[kOptPrefix + "exp_avg_sq." + slot.name] = slot.exp_avg_sq.cpu();
    f.tensors[kOptPrefix + "step." + slot.name] = i64(slot.step);
  }
  {
    // Nothing in the loop draws random numbers today; the state is kept so that anything that
    // will (dropout, sampling) resumes exactly too.
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    f.tensors[kRngKey] = gen.get_state();
  }
  f.tensors[kStatePrefix + "step"] = i64(s.step);
  f.tensors[kStatePrefix + "tokens"] = f64(s.tokens);
  f.tensors[kStatePrefix + "data_cursor"] = i64(int64_t(s.data_cursor));
  f.tensors[kStatePrefix + "epochs"] = f64(s.epochs);
  f.tensors[kStatePrefix + "train_s"] = f64(s.train_s);
  f.tensors[kStatePrefix + "wall_s"] = f64(s.wall_s);
  f.tensors[kStatePrefix + "cpu_s"] = f64(s.cpu_s);
  f.tensors[kStatePrefix + "last_loss"] = f64(s.last_loss);
  f.tensors[kStatePrefix + "last_val_loss"] = f64(s.last_val_loss);
  f.tensors[kStatePrefix + "nonfinite_skipped"] = i64(s.nonfinite_skipped);

  const std::string name = ckpt_name(s.step);
  const std::string path = run_dir + "/" + name;
  check_finite(f, path, s.step);
  const bool replaces = file_exists(path);  // a resumed run writing the same step again
  try {
    // Built in memory with a checksum per dataset, then temp + checked writes + fsync + rename: a
    // full disk names the file and the OS error (arch/h5_tensors.h).
    arch::write_tensor_file(path, f);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + "; the previous checkpoint and 'latest' are kept");
  }

  // Keep this checkpoint and the one `latest` named before it; older ones go.
  std::string previous;
  if (file_exists(run_dir + "/" + kLatestName)) previous = read_text(run_dir + "/" + kLatestName);
  while (!previous.empty() && (previous.back() == '\n' || previous.back() == ' ')) previous.pop_back();
  try {
    arch::write_file_atomic(run_dir + "/" + kLatestName, name + "\n");
  } catch (const std::runtime_error& e) {
    if (!replaces && name != previous) std::remove(path.c_str());  // nothing names it; the disk is full
    throw std::runtime_error(std::string(e.what()) + "; it still names " + (previous.empty() ? "nothing" : previous));
  }
  for (const auto& e : std::filesystem::directory_iterator(run_dir)) {
    const std::string n = e.path().filename().string();
    const bool ours = n.rfind("ckpt-", 0) == 0 && n.size() > 3 && n.compare(n.size() - 3, 3, ".h5") == 0;
    if (ours && n != name && n != previous) std::filesystem::remove(e.path());
  }
  return path;
}

std::optional<std::string> latest_checkpoint(const std::string& run_dir) {
  const std::string pointer = run_dir + "/" + kLatestName;
  if (!file_exists(pointer)) return std::nullopt;
  std::string name = read_text(pointer);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  const std::string path = run_dir + "/" + name;
  if (name.empty() || !file_exists(path))
    throw ConfigError(pointer + ": names checkpoint '" + name + "', which does not exist");
  return path;
}

void check_checkpoint(const std::string& path, const std::string& config_json) {
  H5::Exception::dontPrint();
  std::string format, config;
  try {
    if (!H5::H5File::isHdf5(path)) throw ConfigError(path + ": not an HDF5 file (expected a training checkpoint)");
    H5::H5File f(path, H5F_ACC_RDONLY);
    auto attr = [&](const char* key, std::string& out) {
      if (!f.attrExists(key)) return;
      H5::Attribute a = f.openAttribute(key);
      if (a.getTypeClass() == H5T_STRING) a.read(a.getStrType(), out);
    };
    attr("format", format);
    attr("config_json", config);
  } catch (const H5::Exception& e) {
    throw ConfigError(path + ": not a readable training checkpoint (" + e.getDetailMsg() + ")");
  }
  if (format != kCheckpointFormat)
    throw ConfigError(path + ": attribute 'format' is not '" + std::string(kCheckpointFormat) + "'");
  if (!config_json.empty() && config != config_json)
    throw ConfigError(path + ": attribute 'config_json' differs from this run's config (a different run's directory?)");
}

LoopState load_checkpoint(const std::string& path, arch::CausalLM& model, AdamW& opt, const std::string& config_json) {
  arch::TensorFile f = arch::read_tensor_file(path);  // every dataset's checksum verified
  auto fmt_it = f.attrs.find("format");
  if (fmt_it == f.attrs.end() || fmt_it->second != kCheckpointFormat)
    throw ConfigError(path + ": attribute 'format' is not '" + std::string(kCheckpointFormat) + "'");
  auto cfg_it = f.attrs.find("config_json");
  if (!config_json.empty() && (cfg_it == f.attrs.end() || cfg_it->second != config_json))
    throw ConfigError(path + ": attribute 'config_json' differs from this run's config (a different run's directory?)");

  std::map<std::string, torch::Tensor> weights;
  for (const auto& [k, t] : f.tensors)
    if (k.rfind(kOptPrefix, 0) != 0 && k.rfind(kStatePrefix, 0) != 0 && k != kRngKey) weights[k] = t;
  arch::load_native_state(model, weights, path);

  torch::NoGradGuard no_grad;
  for (auto& slot : opt.slots()) {
    const auto& m = need(f, kOptPrefix + "exp_avg." + slot.name, path);
    const auto& v = need(f, kOptPrefix + "exp_avg_sq." + slot.name, path);
    if (m.sizes() != slot.exp_avg.sizes() || v.sizes() != slot.exp_avg_sq.sizes())
      throw ConfigError(path + ": optimizer state of '" + slot.name + "' has the wrong shape");
    slot.exp_avg.copy_(m);
    slot.exp_avg_sq.copy_(v);
    slot.step = need(f, kOptPrefix + "step." + slot.name, path).item<int64_t>();
  }
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(need(f, kRngKey, path));
  }
  LoopState s;
  s.step = need(f, kStatePrefix + "step", path).item<int64_t>();
  s.tokens = need(f, kStatePrefix + "tokens", path).item<double>();
  s.data_cursor = uint64_t(need(f, kStatePrefix + "data_cursor", path).item<int64_t>());
  s.epochs = need(f, kStatePrefix + "epochs", path).item<double>();
  s.train_s = need(f, kStatePrefix + "train_s", path).item<double>();
  s.wall_s = need(f, kStatePrefix + "wall_s", path).item<double>();
  s.cpu_s = need(f, kStatePrefix + "cpu_s", path).item<double>();
  s.last_loss = need(f, kStatePrefix + "last_loss", path).item<double>();
  s.last_val_loss = need(f, kStatePrefix + "last_val_loss", path).item<double>();
  if (auto it = f.tensors.find(kStatePrefix + "nonfinite_skipped"); it != f.tensors.end())  // absent before issue 18
    s.nonfinite_skipped = it->second.item<int64_t>();
  return s;
}

}  // namespace sharelab::train
