// Scoring throughput of the evaluation harness: continuation tokens/s (and requests/s) of
// Scorer::score on HellaSwag-shaped requests (a ~60-token context, four ~20-token endings), for a
// CPU-scale preset, fp32 and bf16 autocast. Usage: bench_eval [preset] [requests] [batch] [threads]
#include <fmt/format.h>

#include <chrono>
#include <random>
#include <string>

#include "kernels/cpu_runtime.h"
#include "arch/registry.h"
#include "runner/eval/scorer.h"

using namespace sharelab;

int main(int argc, char** argv) {
  try {
    const std::string preset = argc > 1 ? argv[1] : "debug";
    const int64_t n = argc > 2 ? std::stoll(argv[2]) : 256;
    const int64_t batch = argc > 3 ? std::stoll(argv[3]) : 16;
    const int threads = argc > 4 ? std::stoi(argv[4]) : 2;
    at::set_num_threads(threads);
    kernels::configure_cpu_runtime();  // as runner does
    arch::ModelSpec spec = arch::resolve_preset(preset);
    arch::CausalLM model(spec);
    model->reset_parameters(0);
    std::mt19937 rng(0);
    std::uniform_int_distribution<int32_t> tok(3, int32_t(spec.vocab_size) - 1);
    std::vector<eval::TokenRequest> reqs;
    int64_t cont_tokens = 0;
    for (int64_t i = 0; i < n; ++i) {  // 4 endings share each context, as in HellaSwag
      std::vector<int32_t> ctx(60 + i % 20), cont(15 + i % 10);
      for (auto& t : ctx) t = tok(rng);
      for (auto& t : cont) t = tok(rng);
      cont_tokens += int64_t(cont.size());
      reqs.push_back({ctx, cont});
    }
    fmt::print("bench_eval: preset {} ({} layers, d_model {}, vocab {}), {} requests, {} continuation tokens, batch "
               "{}, {} threads\n",
               preset, spec.n_layers, spec.d_model, spec.vocab_size, n, cont_tokens, batch, threads);
    for (bool bf16 : {false, true}) {
      eval::Scorer scorer(model, {batch, 0, bf16});
      scorer.score(std::vector<eval::TokenRequest>(reqs.begin(), reqs.begin() + std::min<int64_t>(n, batch)));
      const auto t0 = std::chrono::steady_clock::now();
      scorer.score(reqs);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      fmt::print("{:<5} {:8.2f} s  {:10.1f} continuation tokens/s  {:8.1f} requests/s\n", bf16 ? "bf16" : "fp32", s,
                 double(cont_tokens) / s, double(n) / s);
    }
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_eval: {}\n", e.what());
    return 1;
  }
}
