// Table 11 latencies for one model: init, load, forward, per-layer forward, peak memory.
#include "runner/profile/profiler.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <fmt/format.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/threads.h"
#include "arch/accounting.h"
#include "kernels/cpu_allocator.h"
#include "kernels/torch_compat.h"
#include "common/errors.h"
#include "common/stable_hash.h"
#include "arch/fast_init.h"
#include "arch/model.h"
#include "arch/weights.h"

namespace sharelab::profile {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The first line of /proc/<file> that starts with `key`, without the key ("" when absent).
std::string proc_field(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  return "";
}

// VmHWM of this process in bytes (Linux); 0 where /proc is absent.
int64_t rss_high_water_bytes() {
  const std::string v = proc_field("/proc/self/status", "VmHWM:");
  return v.empty() ? 0 : std::stoll(v) * 1024;  // "  123456 kB"
}

// Writing "5" to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so each model's peak
// is its own and not the previous model's.
void reset_rss_high_water() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

// The BLAS shared object actually mapped into this process (what update-alternatives picked).
std::string blas_runtime() {
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.find('/');
    if (pos == std::string::npos) continue;
    std::string path = line.substr(pos);
    if (path.find("blas") != std::string::npos || path.find("mkl_") != std::string::npos) return path;
  }
  return "";
}

// "BLAS_INFO=open" and friends from LibTorch's build configuration.
std::string config_value(const std::string& config, const std::string& key) {
  auto pos = config.find(key + "=");
  if (pos == std::string::npos) return "";
  auto end = config.find_first_of(",\n", pos);
  return config.substr(pos + key.size() + 1, end - pos - key.size() - 1);
}

// Each value rounded to `decimals` places: microseconds are the resolution that matters for
// latencies, and the rest is noise in the database.
nlohmann::json rounded(const std::vector<double>& v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  nlohmann::json out = nlohmann::json::array();
  for (double x : v) out.push_back(std::round(x * scale) / scale);
  return out;
}

}  // namespace

double median(std::vector<double> v) {
  TORCH_CHECK(!v.empty(), "median of an empty list");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string json_array(const std::vector<double>& v, int decimals) {
  return rounded(v, decimals).dump();
}

std::string spec_hash(const arch::ModelSpec& spec) {
  return stable_hash(arch::spec_to_text(spec));
}

// The 1-minute load average: on a shared machine a busy neighbour inflates every latency, so each
// row records how busy the machine was when it was measured.
static double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = -1;
  in >> one;
  return one;
}

std::string versions_json() {
  const std::string config = at::show_config();
#if defined(__clang__)
  const std::string compiler = fmt::format("clang {}", __clang_version__);
#elif defined(__GNUC__)
  const std::string compiler = fmt::format("GCC {}", __VERSION__);
#else
  const std::string compiler = "unknown";
#endif
  nlohmann::json v = {{"torch", TORCH_VERSION},
                            {"compiler", compiler},
                            {"blas", config_value(config, "BLAS_INFO")},
                            {"blas_runtime", blas_runtime()},
                            {"mkldnn", at::hasMKLDNN()},
                            {"loadavg_1m", std::round(load_average() * 100) / 100}};
  if (kernels::compat::cuda_build()) {
    v["cuda"] = config_value(config, "CUDA_VERSION");
    v["cudnn"] = config_value(config, "CUDNN_VERSION");
    v["nccl"] = kernels::compat::nccl_version();
  }
  return v.dump();
}

std::string device_description(const std::string& device, int threads) {
  if (device.rfind("cuda", 0) == 0) return fmt::format("{} (CUDA), {} host threads", device, threads);
  std::string model = proc_field("/proc/cpuinfo", "model name");
  model = model.substr(std::min(model.size(), model.find_first_not_of(" \t:")));
  return fmt::format("cpu: {}, {} threads", model.empty() ? "unknown" : model, threads);
}

store::ProfileRow to_profile_row(const ProfileResult& r) {
  store::ProfileRow row{r.preset,  r.spec_hash,     r.device,     r.dtype,      r.threads,
                        r.batch,   r.seq,           r.load_ms,    r.init_ms,    r.fwd_median_ms,
                        r.fwd_min_ms, r.fwd_max_ms, r.peak_mem_bytes, json_array(r.per_layer_ms)};
  row.prompt_len = r.prompt_len;
  row.decode_tokens = r.decode_tokens;
  row.ttft_ms = r.ttft_ms;
  row.decode_tok_s = r.decode_tok_s;
  row.decode_tok_s_min = r.decode_tok_s_min;
  row.decode_tok_s_max = r.decode_tok_s_max;
  row.decode_peak_mem_bytes = r.decode_peak_mem_bytes;
  if (r.decode_tokens > 0) row.decode_per_layer_ms_json = json_array(r.decode_per_layer_ms, 4);
  // The versions object also says how the figures were taken, so a row explains itself.
  nlohmann::json v = nlohmann::json::parse(r.versions_json);
  v["warmup"] = r.warmup;
  v["repeats"] = r.repeats;
  v["peak_mem_kind"] = r.peak_mem_kind;
  if (r.peak_reserved_bytes > 0) v["cuda_reserved_peak_bytes"] = r.peak_reserved_bytes;
  v["fwd_ms"] = rounded(r.fwd_ms, 3);
  if (r.decode_tokens > 0) {
    v["ttft_ms"] = rounded(r.ttft_ms_all, 3);
    v["decode_tok_s"] = rounded(r.decode_tok_s_all, 3);
  }
  row.versions_json = v.dump();
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  row.created_at = buf;
  return row;
}

namespace {

// module->to(kBFloat16) on the CPU with the parallel exact cast (LibTorch 1.13's casts one element
// at a time): the same values, each parameter swapped for its bf16 copy as to() does.
void cast_to_bf16(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) {
    auto b = torch::empty(p.sizes(), p.options().dtype(torch::kBFloat16));
    arch::cast_into(b, p);
    p.set_data(b);
  }
}

// Peak memory since the last reset, of the kind the forwards use (CUDA allocated or RSS).
int64_t peak_memory(const torch::Device& device) {
  return device.is_cuda() ? kernels::compat::cuda_memory_peak(device).allocated_peak : rss_high_water_bytes();
}

// Batch-1 greedy generation: `prompt` in one prefill, then o.decode tokens one forward each. Returns
// the time to first token; the per-token times go to tok_ms when given.
double generate_once(arch::CausalLM& model, const torch::Tensor& prompt, const ProfileOptions& o,
                     const torch::Device& device, std::vector<double>* tok_ms) {
  arch::KVCache cache = model->new_cache(o.prompt_len + o.decode, device);
  auto t0 = Clock::now();
  constexpr auto kLast = arch::CausalLMImpl::Logits::kLast;
  auto logits = model->forward_cached(prompt, cache, kLast);  // (1, 1, V)
  int64_t next = logits[0][0].argmax().item<int64_t>();  // item() synchronises
  const double ttft = ms_since(t0);
  const auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  for (int64_t i = 0; i < o.decode; ++i) {
    t0 = Clock::now();
    logits = model->forward_cached(torch::full({1, 1}, next, opts), cache, kLast);  // (1, 1, V)
    next = logits[0][0].argmax().item<int64_t>();
    if (tok_ms) tok_ms->push_back(ms_since(t0));
  }
  return ttft;
}

void profile_decode(arch::CausalLM& model, const ProfileOptions& o, const torch::Device& device, ProfileResult& r) {
  torch::NoGradGuard no_grad;
  const auto& spec = model->spec();
  auto gen = at::detail::createCPUGenerator(o.seed + 1);
  const auto prompt = at::randint(spec.vocab_size, {1, o.prompt_len}, gen, torch::kLong).to(device);  // (1, P)
  r.prompt_len = o.prompt_len;
  r.decode_tokens = o.decode;
  kernels::release_cpu_cache();
  if (device.is_cuda()) kernels::compat::reset_cuda_memory_peak(device);
  else reset_rss_high_water();
  for (int64_t i = 0; i < o.warmup; ++i) generate_once(model, prompt, o, device, nullptr);
  for (int64_t i = 0; i < o.repeats; ++i) {
    std::vector<double> tok_ms;
    r.ttft_ms_all.push_back(generate_once(model, prompt, o, device, &tok_ms));
    double total = 0;
    for (double t : tok_ms) total += t;
    r.decode_tok_s_all.push_back(1e3 * double(o.decode) / total);
  }
  r.decode_peak_mem_bytes = peak_memory(device);
  r.ttft_ms = median(r.ttft_ms_all);
  r.decode_tok_s = median(r.decode_tok_s_all);
  r.decode_tok_s_min = *std::min_element(r.decode_tok_s_all.begin(), r.decode_tok_s_all.end());
  r.decode_tok_s_max = *std::max_element(r.decode_tok_s_all.begin(), r.decode_tok_s_all.end());

  if (o.decode_only) return;
  // Per executed layer, decoded tokens only (the prefill's layer calls are skipped).
  std::vector<std::vector<double>> per_slot(size_t(spec.n_layers));
  Clock::time_point slot_start;
  int64_t calls = 0;  // layer calls so far in this pass: the first n_layers are the prefill's
  model->set_slot_hook([&](int64_t slot, bool begin) {
    kernels::compat::synchronize(device);
    if (begin) {
      slot_start = Clock::now();
    } else if (calls++ >= spec.n_layers) {
      per_slot[size_t(slot)].push_back(ms_since(slot_start));
    }
  });
  generate_once(model, prompt, o, device, nullptr);
  model->set_slot_hook(nullptr);
  for (const auto& v : per_slot) r.decode_per_layer_ms.push_back(median(v));
}

}  // namespace

ProfileResult profile_model(const arch::ModelSpec& spec, const ProfileOptions& o) {
  if (o.dtype != "fp32" && o.dtype != "bf16")
    throw ConfigError("profile: --dtype '" + o.dtype + "'; expected fp32 or bf16");
  if (o.batch < 1 || o.seq < 1 || o.repeats < 1 || o.warmup < 0)
    throw ConfigError(fmt::format("profile: batch {} seq {} repeats {} must be >= 1 and warmup {} >= 0", o.batch, o.seq,
                                  o.repeats, o.warmup));
  if (o.seq > spec.max_seq_len)
    throw ConfigError(fmt::format("profile: --seq {} exceeds {}'s max_seq_len {}", o.seq, spec.name, spec.max_seq_len));
  if (o.decode_only && o.decode < 1) throw ConfigError("profile: --decode-only needs --decode N >= 1");
  if (o.decode < 0 || (o.decode > 0 && o.prompt_len < 1))
    throw ConfigError(fmt::format("profile: --decode {} must be >= 0 and --prompt {} >= 1", o.decode, o.prompt_len));
  if (o.decode > 0 && o.prompt_len + o.decode > spec.max_seq_len)
    throw ConfigError(fmt::format("profile: --prompt {} + --decode {} exceeds {}'s max_seq_len {}", o.prompt_len,
                                  o.decode, spec.name, spec.max_seq_len));
  const torch::Device device = kernels::compat::resolve_device(o.device, "profile: --device");
  const int threads = threads_or_cores(o.threads);
  at::set_num_threads(threads);
  const auto dtype = o.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;

  ProfileResult r;
  r.preset = spec.name;
  r.spec_hash = spec_hash(spec);
  r.device = device_description(o.device, threads);
  r.dtype = o.dtype;
  r.threads = threads;
  r.batch = o.batch;
  r.seq = o.seq;
  r.warmup = o.warmup;
  r.repeats = o.repeats;
  r.unique_params = arch::unique_params(spec).total();
  r.versions_json = versions_json();
  r.load_avg_1m = load_average();

  // --- init: construct + initialise, in the profiled dtype, on the device ---
  torch::manual_seed(o.seed);
  auto t0 = Clock::now();
  arch::CausalLM model(spec);
  if (device.is_cpu() && dtype == torch::kBFloat16) cast_to_bf16(*model);
  else model->to(device, dtype);
  model->eval();
  kernels::compat::synchronize(device);
  r.init_ms = ms_since(t0);
  if (o.decode_only) {
    profile_decode(model, o, device, r);
    return r;
  }

  // --- load: the native checkpoint, written first (untimed) ---
  fs::create_directories(o.work_dir);
  const std::string ckpt =
      (fs::path(o.work_dir) / fmt::format("{}-{}-{}.h5", spec.name, r.spec_hash, o.dtype)).string();
  arch::save_weights(model, ckpt);
  r.checkpoint_bytes = int64_t(fs::file_size(ckpt));
  t0 = Clock::now();
  arch::load_weights(model, ckpt);
  kernels::compat::synchronize(device);
  r.load_ms = ms_since(t0);
  if (!o.keep_checkpoint) fs::remove(ckpt);
  // The load's staging tensors now sit idle in the caching CPU allocator (up to its 4 GiB bound):
  // hand them back, so that the forwards run and the peak is measured beside the model alone.
  kernels::release_cpu_cache();

  // --- forward: warm-up, then timed repeats ---
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(o.seed);
  const auto tokens = at::randint(spec.vocab_size, {o.batch, o.seq}, gen, torch::kLong).to(device);  // (B, T)
  if (device.is_cuda()) kernels::compat::reset_cuda_memory_peak(device);
  else reset_rss_high_water();
  for (int64_t i = 0; i < o.warmup; ++i) model->forward(tokens);
  kernels::compat::synchronize(device);
  for (int64_t i = 0; i < o.repeats; ++i) {
    t0 = Clock::now();
    auto logits = model->forward(tokens);  // (B, T, V)
    kernels::compat::synchronize(device);
    r.fwd_ms.push_back(ms_since(t0));
  }
  r.fwd_median_ms = median(r.fwd_ms);
  r.fwd_min_ms = *std::min_element(r.fwd_ms.begin(), r.fwd_ms.end());
  r.fwd_max_ms = *std::max_element(r.fwd_ms.begin(), r.fwd_ms.end());

  // --- per executed layer: a separate pass, so the hook's synchronisation does not touch the above ---
  std::vector<std::vector<double>> per_slot(size_t(spec.n_layers));
  Clock::time_point slot_start;
  model->set_slot_hook([&](int64_t slot, bool begin) {
    kernels::compat::synchronize(device);
    if (begin)
      slot_start = Clock::now();
    else
      per_slot[size_t(slot)].push_back(ms_since(slot_start));
  });
  for (int64_t i = 0; i < o.repeats; ++i) model->forward(tokens);
  model->set_slot_hook(nullptr);
  for (const auto& v : per_slot) r.per_layer_ms.push_back(median(v));

  if (device.is_cuda()) {
    const auto peak = kernels::compat::cuda_memory_peak(device);
    r.peak_mem_kind = "cuda_allocated_peak";
    r.peak_mem_bytes = peak.allocated_peak;
    r.peak_reserved_bytes = peak.reserved_peak;
  } else {
    r.peak_mem_kind = "rss_hwm";
    r.peak_mem_bytes = rss_high_water_bytes();
  }
  if (o.decode > 0) profile_decode(model, o, device, r);
  return r;
}

}  // namespace sharelab::profile
