// Scoring throughput of the evaluation harness, the plain path (lm-eval's: every request runs its
// whole input) against the shared-prefix one (the default: each context once, its continuations
// from the cached K/V; runner/eval/scorer.h), fp32 and bf16 autocast:
//  1. synthetic HellaSwag-shaped requests (a 60-79-token context shared by four 15-24-token
//     endings) on a small preset: continuation tokens/s and requests/s of each path;
//  2. the leaderboard's long few-shot contexts, HellaSwag 10-shot and ARC-Challenge 25-shot, on the
//     first --docs documents of ../shared/data with the default corpus's SentencePiece tokenizer, on a
//     random-init --task-preset (weights do not change the cost): requests/s of each path, their
//     ratio, and whether every log-likelihood (1e-5 relative), is_greedy and every document's
//     acc / acc_norm matched. Skipped, with a line saying why, without the files or the tokenizer.
// Usage: bench_eval [--preset debug] [--requests 256] [--batch 16] [--threads 2]
//                   [--task-preset mobilellm-125m] [--docs 8] [--tasks-dir DIR] [--tokenizer FILE]
//                   [--dtypes fp32,bf16] [--task-batch 8]
#include <fmt/format.h>

#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "arch/registry.h"
#include "kernels/cpu_runtime.h"
#include "runner/data/tokenizer.h"
#include "runner/eval/path_check.h"
#include "runner/eval/scorer.h"
#include "runner/eval/task_readers.h"

using namespace sharelab;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// User + system CPU seconds of this process, all threads: on a machine shared with other jobs the
// wall time of each path depends on their load, its CPU time much less.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Timed {
  std::vector<eval::LogLikelihood> ll;
  double s = 0, cpu_s = 0;
  int64_t positions = 0;
};

Timed timed_score(arch::CausalLM model, const eval::ScorerOptions& o, const std::vector<eval::TokenRequest>& reqs) {
  eval::Scorer scorer(model, o);
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  Timed t;
  t.ll = scorer.score(reqs);
  t.s = seconds_since(t0);
  t.cpu_s = cpu_seconds() - c0;
  t.positions = scorer.last_stats().positions;
  return t;
}

struct Encoder : eval::TextEncoder {
  explicit Encoder(const data::Tokenizer& t) : tok(t) {}
  std::vector<int32_t> encode(const std::string& text) const override { return tok.encode(text); }
  int32_t bos_id() const override { return tok.bos_id(); }
  int32_t eos_id() const override { return tok.eos_id(); }
  const data::Tokenizer& tok;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    std::map<std::string, std::string> arg = {
        {"preset", "debug"},      {"requests", "256"}, {"batch", "16"},       {"threads", "2"},
        {"task-preset", "mobilellm-125m"}, {"docs", "8"}, {"task-batch", "8"}, {"dtypes", "fp32,bf16"},
        {"tasks-dir", std::string(SHARELAB_SOURCE_DIR) + "/../shared/data"},
        {"tokenizer", std::string(SHARELAB_SOURCE_DIR) + "/results/data/default/tokenizer.model"}};
    for (int i = 1; i < argc; i += 2) {
      const std::string k = argv[i];
      if (k.rfind("--", 0) != 0 || !arg.count(k.substr(2)) || i + 1 >= argc)
        throw std::runtime_error("usage: bench_eval [--preset P] [--requests N] [--batch B] [--threads T] "
                                 "[--task-preset P] [--docs N] [--task-batch B] [--tasks-dir DIR] [--tokenizer FILE] "
                                 "[--dtypes fp32,bf16]; got '" + k + "'");
      arg[k.substr(2)] = argv[i + 1];
    }
    const int threads = std::stoi(arg["threads"]);
    at::set_num_threads(threads);      // LibTorch's default here is 1
    kernels::configure_cpu_runtime();  // as runner does
    std::vector<bool> dtypes;          // bf16?
    if (arg["dtypes"].find("fp32") != std::string::npos) dtypes.push_back(false);
    if (arg["dtypes"].find("bf16") != std::string::npos) dtypes.push_back(true);

    // --- 1. synthetic HellaSwag-shaped requests ---------------------------------------------------
    {
      const std::string preset = arg["preset"];
      const int64_t n = std::stoll(arg["requests"]), batch = std::stoll(arg["batch"]);
      arch::ModelSpec spec = arch::resolve_preset(preset);
      arch::CausalLM model(spec);
      model->reset_parameters(0);
      std::mt19937 rng(0);
      std::uniform_int_distribution<int32_t> tok(3, int32_t(spec.vocab_size) - 1);
      std::vector<eval::TokenRequest> reqs;
      int64_t cont_tokens = 0;
      std::vector<int32_t> ctx;
      for (int64_t i = 0; i < n; ++i) {  // 4 endings share each context, as in HellaSwag
        if (i % 4 == 0) {
          ctx.assign(60 + (i / 4) % 20, 0);
          for (auto& t : ctx) t = tok(rng);
        }
        std::vector<int32_t> cont(15 + i % 10);
        for (auto& t : cont) t = tok(rng);
        cont_tokens += int64_t(cont.size());
        reqs.push_back({ctx, cont});
      }
      fmt::print("bench_eval: preset {} ({} layers, d_model {}, vocab {}), {} synthetic requests (4 per context), "
                 "{} continuation tokens, batch {}, {} threads\n",
                 preset, spec.n_layers, spec.d_model, spec.vocab_size, n, cont_tokens, batch, threads);
      for (bool bf16 : dtypes) {
        for (bool share : {false, true}) {
          const eval::ScorerOptions o{batch, 0, bf16, share};
          timed_score(model, o, std::vector<eval::TokenRequest>(reqs.begin(), reqs.begin() + std::min<int64_t>(n, 8)));
          const Timed t = timed_score(model, o, reqs);
          fmt::print("{:<5} {:<6} {:8.2f} s ({:6.2f} s CPU) {:10.1f} continuation tokens/s  {:8.1f} requests/s\n",
                     bf16 ? "bf16" : "fp32", share ? "shared" : "plain", t.s, t.cpu_s, double(cont_tokens) / t.s,
                     double(n) / t.s);
        }
      }
    }

    // --- 2. HellaSwag 10-shot, ARC-Challenge 25-shot ----------------------------------------------
    const std::string dir = arg["tasks-dir"], tok_path = arg["tokenizer"];
    if (!std::filesystem::exists(dir + "/hellaswag") || !std::filesystem::exists(dir + "/arc")) {
      fmt::print("bench_eval: few-shot tasks skipped: no HellaSwag/ARC files in {}\n", dir);
      return 0;
    }
    if (!std::filesystem::exists(tok_path)) {
      fmt::print("bench_eval: few-shot tasks skipped: no tokenizer {} (make data, or --tokenizer FILE)\n", tok_path);
      return 0;
    }
    const data::Tokenizer tokenizer = data::Tokenizer::load(tok_path);
    const Encoder enc(tokenizer);
    const std::string preset = arg["task-preset"];
    const int64_t docs = std::stoll(arg["docs"]), batch = std::stoll(arg["task-batch"]);
    arch::ModelSpec spec = arch::resolve_preset(preset);
    if (tokenizer.vocab_size() > spec.vocab_size)
      throw std::runtime_error(tok_path + ": vocabulary larger than " + preset + "'s");
    arch::CausalLM model(spec);
    model->reset_parameters(0);
    fmt::print("bench_eval: {} (random init, {} layers, d_model {}), first {} documents, tokenizer {} (vocab {}), "
               "batch {}, {} threads\n",
               preset, spec.n_layers, spec.d_model, docs, tok_path, tokenizer.vocab_size(), batch, threads);
    fmt::print("requests/s from wall time; ratio = plain / shared seconds (wall, CPU), and of the token positions "
               "forwarded\n");
    fmt::print("{:<14} {:>5} {:>5} {:>8} {:>5} {:>9} {:>10} {:>6} {:>6} {:>9}  {}\n", "task", "shots", "dtype",
               "requests", "ctx", "plain r/s", "shared r/s", "ratio", "cpu", "positions", "log-likelihoods");
    bool all_matched = true;
    for (const auto& [name, shots] : {std::pair<std::string, int64_t>{"hellaswag", 10}, {"arc_challenge", 25}}) {
      const eval::TaskData task = eval::read_task(name, dir);
      const eval::DocRequests d = eval::doc_requests(task, enc, docs, shots);
      double ctx = 0;
      for (const auto& r : d.requests) ctx += double(r.context.size()) / double(d.requests.size());
      for (bool bf16 : dtypes) {
        // Warm-up: one document each way (allocator, oneDNN primitives).
        const std::vector<eval::TokenRequest> warm(d.requests.begin(), d.requests.begin() + d.first[1]);
        timed_score(model, {batch, 0, bf16, false}, warm);
        timed_score(model, {batch, 0, bf16, true}, warm);
        const Timed a = timed_score(model, {batch, 0, bf16, false}, d.requests);
        const Timed b = timed_score(model, {batch, 0, bf16, true}, d.requests);
        const eval::PathAgreement p = eval::compare_paths(task, d, a.ll, b.ll);
        const double n = double(d.requests.size());
        std::string verdict = fmt::format("max |diff| {:.2e} (rel {:.1e}), is_greedy differs {}, docs whose "
                                          "acc/acc_norm differ {}",
                                          p.max_abs, p.max_rel, p.greedy_differs, p.docs_differ);
        if (!bf16) {
          verdict = (p.same(1e-5) ? "MATCHED: " : "DIFFER: ") + verdict;
          all_matched = all_matched && p.same(1e-5);
        }
        fmt::print("{:<14} {:>5} {:>5} {:>8} {:>5.0f} {:>9.3f} {:>10.3f} {:>5.2f}x {:>5.2f}x {:>8.2f}x  {}\n", name,
                   shots, bf16 ? "bf16" : "fp32", d.requests.size(), ctx, n / a.s, n / b.s, a.s / b.s,
                   a.cpu_s / b.cpu_s, double(a.positions) / double(b.positions), verdict);
        std::fflush(stdout);
      }
    }
    fmt::print("bench_eval: fp32 log-likelihoods of the two paths {}\n", all_matched ? "matched" : "DID NOT MATCH");
    return all_matched ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_eval: {}\n", e.what());
    return 1;
  }
}
