// bench_train: training tokens/s and model FLOPs utilisation of the CPU-scale presets, fp32 and
// bf16, beside three references run in the same invocation on the same geometry, batch, threads and
// precision: ../shared/bench/ref_llama.py in eager PyTorch 1.13 (Debian's, OpenBLAS), the same script
// in eager PyTorch 2.x (the pinned PyPI wheel in third_party/torch2: MKL, oneDNN) and its model under
// torch.compile (bench/ref_compiled.py, inductor). Times runner/train/train_step.h, the step the
// training loop runs.
// CPU-scale geometry (ref_llama.py's default): d_model 256, 4 heads (MHA), ffn 704, vocab 8000,
// seq 256; each preset keeps its depth and sharing scheme.
//   bench_train [--presets mobillama-0.5b,large-base] [--precisions fp32,bf16] [--steps 5]
//               [--batch 8] [--seq 256] [--threads 0] [--stock-runtime] [--rounds 3]
//               [--refs eager-1.13,eager-2,compile-2 | --no-ref] [--python /usr/bin/python3]
//               [--torch2 third_party/torch2] [--torch2-python python3] [--ref-env "OPENBLAS_CORETYPE=SkylakeX"]
//               [--trace FILE.json]   (chrome trace of one extra step per run, LibTorch's legacy profiler)
// Each row alternates ours and every reference `rounds` times and reports the medians: this
// machine's speed drifts by tens of percent over minutes, so one back-to-back pair can mislead.
// torch.compile's compilation runs in its untimed first step (bench/ref_compiled.py).
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "arch/accounting.h"
#include "common/threads.h"
#include "kernels/cpu_runtime.h"
#include "arch/registry.h"
#include "runner/train/peak_flops.h"
#include "runner/train/train_loop.h"
#include "runner/train/train_step.h"

using namespace sharelab;

namespace {

struct Args {
  std::vector<std::string> presets = {"mobillama-0.5b", "large-base"};
  std::vector<std::string> precisions = {"fp32", "bf16"};
  int steps = 5, batch = 8, seq = 256, threads = 0, rounds = 3;
  std::string ref_env;  // prefixed to every reference's command line
  std::vector<std::string> refs = {"eager-1.13", "eager-2", "compile-2"};
  bool runtime = true;
  std::string trace;
  std::string python = "/usr/bin/python3";  // Debian's, with python3-torch 1.13
  std::string torch2_python = "python3";    // any CPython 3.11 for the wheel in --torch2
  std::string torch2 = std::string(SHARELAB_SOURCE_DIR) + "/third_party/torch2";
  std::string ref_script = std::string(SHARELAB_SOURCE_DIR) + "/../shared/bench/ref_llama.py";
};

// The command line running reference `name` (ref_llama.py's arguments follow it).
std::string reference_command(const Args& a, const std::string& name) {
  const std::string env = a.ref_env.empty() ? "" : a.ref_env + " ";
  const std::string torch2 = "PYTHONPATH=" + a.torch2 + " " + env + a.torch2_python + " ";
  if (name == "eager-1.13") return env + a.python + " " + a.ref_script;
  if (name == "eager-2") return torch2 + a.ref_script;
  if (name == "compile-2")
    return torch2 + std::string(SHARELAB_SOURCE_DIR) + "/bench/ref_compiled.py --ref " + a.ref_script;
  throw std::runtime_error("--refs: unknown reference '" + name + "' (eager-1.13, eager-2, compile-2)");
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + k);
      return argv[++i];
    };
    if (k == "--presets") a.presets = split(val());
    else if (k == "--precisions") a.precisions = split(val());
    else if (k == "--steps") a.steps = std::stoi(val());
    else if (k == "--batch") a.batch = std::stoi(val());
    else if (k == "--seq") a.seq = std::stoi(val());
    else if (k == "--threads") a.threads = std::stoi(val());
    else if (k == "--no-ref") a.refs.clear();
    else if (k == "--refs") a.refs = split(val());
    else if (k == "--torch2") a.torch2 = val();
    else if (k == "--torch2-python") a.torch2_python = val();
    else if (k == "--stock-runtime") a.runtime = false;
    else if (k == "--python") a.python = val();
    else if (k == "--ref") a.ref_script = val();
    else if (k == "--trace") a.trace = val();
    else if (k == "--rounds") a.rounds = std::max(1, std::stoi(val()));
    else if (k == "--ref-env") a.ref_env = val();
    else throw std::runtime_error("unknown option " + k + " (see the header of bench/bench_train.cpp)");
  }
  for (const auto& r : a.refs) (void)reference_command(a, r);  // unknown names fail here, not mid-run
  return a;
}

arch::ModelSpec cpu_scale(const std::string& preset, int seq) {
  return arch::resolve_preset(preset, {"d_model=256", "n_heads=4", "n_kv_heads=4", "ffn_dim=704", "vocab_size=8000",
                                       "max_seq_len=" + std::to_string(seq)});
}

// Median seconds per step over `steps` timed steps after one warm-up step.
double time_ours(const arch::ModelSpec& spec, const Args& a, bool bf16) {
  torch::manual_seed(0);
  arch::CausalLM model(spec);
  model->train();
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : model->named_parameters()) named.emplace_back(p.key(), p.value());
  train::AdamW opt(named, {0.9, 0.95, 1e-8, 0.1});
  auto gen = at::detail::createCPUGenerator(0);
  const torch::Tensor x = torch::randint(spec.vocab_size, {a.batch, a.seq + 1}, gen, torch::kInt64);  // (B, T + 1)
  const train::StepOptions so{1, 1.0, bf16, false};
  std::vector<double> times;
  for (int s = 0; s <= a.steps; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    train::train_step(model, opt, [&] { return x; }, 3e-4, so);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s) times.push_back(dt);
  }
  if (!a.trace.empty()) {
    const std::string path = a.trace + "." + spec.name + (bf16 ? ".bf16" : ".fp32") + ".json";
    torch::autograd::profiler::RecordProfile profile(path);
    train::train_step(model, opt, [&] { return x; }, 3e-4, so);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A reference's tokens/s on the same geometry, or -1 when it cannot run.
double tokens_per_s_ref(const std::string& name, const arch::ModelSpec& spec, const Args& a, bool bf16, int threads) {
  nlohmann::json cfg = {{"vocab", spec.vocab_size}, {"d", spec.d_model},     {"h", spec.n_heads},
                        {"kv", spec.n_kv_heads},   {"ffn", spec.ffn_dim},    {"layers", spec.n_layers},
                        {"eps", spec.norm_eps},    {"tie", spec.tie_embeddings}};
  if (spec.scheme == "shared-ffn") cfg["share"] = "ffn";
  else if (spec.scheme != "none") return -1;  // the reference knows dense and shared-FFN only
  const std::string cmd = fmt::format("{} --config '{}' --batch {} --seq {} --steps {} --threads {}{} 2>/dev/null",
                                      reference_command(a, name), cfg.dump(), a.batch, a.seq, a.steps, threads,
                                      bf16 ? " --bf16" : "");
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  if (!p) return -1;
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p.get())) out += buf;
  try {
    return nlohmann::json::parse(out).at("tokens_per_s").get<double>();
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    // What runner does first (kernels/cpu_runtime.h). The reference, a child process, keeps LibTorch's
    // defaults. --stock-runtime measures ours without them.
    if (a.runtime) kernels::configure_cpu_runtime();
    const int threads = threads_or_cores(a.threads);
    at::set_num_threads(threads);
    fmt::print("bench_train: batch {} x seq {}, {} threads, median of {} steps after 1 warm-up (AdamW, clip 1.0);"
               " median of {} alternating rounds{}\n",
               a.batch, a.seq, threads, a.steps, a.rounds, a.ref_env.empty() ? "" : "; reference run with " + a.ref_env);
    fmt::print("geometry: d_model 256, 4 heads, ffn 704, vocab 8000; each preset's depth and scheme\n");
    fmt::print("{:<16} {:<5} {:>7} {:>11} {:>7} {:>11}", "preset", "prec", "params", "ours tok/s", "MFU", "peak GF/s");
    for (const auto& r : a.refs) fmt::print(" {:>13} {:>6}", r, "ratio");
    fmt::print("\n");
    for (const auto& preset : a.presets) {
      const arch::ModelSpec spec = cpu_scale(preset, a.seq);
      const double flops_tok = 3.0 * arch::forward_flops_per_token(spec, a.seq);
      for (const auto& prec : a.precisions) {
        const bool bf16 = prec == "bf16";
        // The peak is re-measured in every round and the best kept: a slow moment must not inflate MFU.
        double peak = 0;
        std::vector<double> ours;
        std::vector<std::vector<double>> ref(a.refs.size());
        for (int r = 0; r < a.rounds; ++r) {
          peak = std::max(peak, train::measured_matmul_flops(torch::kCPU, bf16, 2048, /*fresh=*/true));
          ours.push_back(double(a.batch) * a.seq / time_ours(spec, a, bf16));
          for (size_t i = 0; i < a.refs.size(); ++i) ref[i].push_back(tokens_per_s_ref(a.refs[i], spec, a, bf16, threads));
        }
        const double o = median(ours);
        fmt::print("{:<16} {:<5} {:>6.1f}M {:>11.1f} {:>6.1f}% {:>11.1f}", preset, prec,
                   arch::unique_params(spec).total() / 1e6, o, 100 * o * flops_tok / peak, peak / 1e9);
        std::string ranges = fmt::format("ours {:.0f}-{:.0f}", *std::min_element(ours.begin(), ours.end()),
                                         *std::max_element(ours.begin(), ours.end()));
        for (size_t i = 0; i < a.refs.size(); ++i) {
          const double rf = median(ref[i]);
          fmt::print(" {:>13} {:>6}", rf > 0 ? fmt::format("{:.1f}", rf) : "-", rf > 0 ? fmt::format("{:.2f}x", o / rf) : "-");
          if (rf > 0)
            ranges += fmt::format(", {} {:.0f}-{:.0f}", a.refs[i], *std::min_element(ref[i].begin(), ref[i].end()),
                                  *std::max_element(ref[i].begin(), ref[i].end()));
        }
        fmt::print("   {}\n", ranges);
        std::fflush(stdout);
      }
    }
    fmt::print("\nratio = ours / the reference's tokens/s (above 1: ours is faster); '-' = the reference could not run\n"
               "(eager-2 and compile-2 need scripts/setup_torch2.sh; the references know dense and shared-FFN models).\n");
    fmt::print("MFU = tokens/s x training FLOPs/token (3 x forward, arch/accounting.h) / measured matmul peak of the"
               " same precision\n(2048^3, best of the row's rounds; fp32 through kernels::matmul, i.e. oneDNN where built with it).\n");
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_train: error: " << e.what() << "\n";
    return 1;
  }
}
