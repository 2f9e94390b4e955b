// `runner generate MODEL --prompt TEXT --max-new N`: token-by-token decoding through the KV cache
// (arch::KVCache: one entry per executed layer, weights per unique module), greedy or
// temperature / top-p sampling, stopping at the tokenizer's eos. The text goes to stdout, the
// timings (time to first token, decode tokens/s) to stderr.
#include <torch/torch.h>

#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "common/cli.h"
#include "common/threads.h"
#include "kernels/torch_compat.h"
#include "runner/commands.h"
#include "runner/data/tokenizer.h"
#include "runner/eval/model_source.h"

namespace sharelab::runner {

namespace {

struct Sampling {
  double temperature = 0;  // 0: greedy
  double top_p = 1.0;
};

// The next token from one row of logits (V): argmax, or a draw from the softmax at `temperature`
// restricted to the smallest set of tokens whose probability reaches top_p.
int64_t next_token(const torch::Tensor& logits, const Sampling& s, at::Generator& gen) {
  const auto l = logits.to(torch::kFloat32);
  if (s.temperature <= 0) return l.argmax().item<int64_t>();
  auto probs = torch::softmax(l / s.temperature, -1);
  if (s.top_p < 1.0) {
    auto [sorted, order] = probs.sort(/*dim=*/-1, /*descending=*/true);
    const auto before = sorted.cumsum(-1) - sorted;  // mass of the tokens ranked above each one
    sorted.masked_fill_(before >= s.top_p, 0.0);
    probs = torch::zeros_like(probs).scatter_(-1, order, sorted);
  }
  return torch::multinomial(probs, 1, /*replacement=*/false, gen).item<int64_t>();
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int cmd_generate(const Args& args) {
  po::options_description opts("runner generate");
  std::string name, prompt, tokenizer;
  int64_t max_new = 64;
  int threads = 0;
  uint64_t seed = 0;
  bool bf16 = false;
  Sampling s;
  opts.add_options()("model", po::value(&name)->required(), "run directory, checkpoint .h5 or HF directory")(
      "prompt", po::value(&prompt)->required(), "text to continue")(
      "max-new", po::value(&max_new)->default_value(64), "new tokens at most (stops earlier at eos)")(
      "temperature", po::value(&s.temperature)->default_value(0.0), "0 = greedy; > 0 samples")(
      "top-p", po::value(&s.top_p)->default_value(1.0), "sample from the smallest set of tokens with this mass")(
      "seed", po::value(&seed)->default_value(0), "sampling seed")(
      "tokenizer", po::value(&tokenizer), "SentencePiece .model (default: the model's own)")(
      "threads", po::value(&threads)->default_value(0), "LibTorch threads (0 = all cores)")(
      "bf16", po::bool_switch(&bf16), "run under bf16 autocast");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_command("runner generate MODEL --prompt TEXT [--max-new N] [--temperature T] [--top-p P] [--seed S]",
                     opts, pos, args, vm))
    return 0;
  if (max_new < 1) throw ConfigError(fmt::format("--max-new {}: expected an integer >= 1", max_new));
  if (s.temperature < 0) throw ConfigError(fmt::format("--temperature {}: expected a number >= 0", s.temperature));
  if (!(s.top_p > 0 && s.top_p <= 1)) throw ConfigError(fmt::format("--top-p {}: expected a number in (0, 1]", s.top_p));
  at::set_num_threads(threads_or_cores(threads));

  eval::ModelSource src = eval::load_model_source(name);
  const std::string tok_path = tokenizer.empty() ? src.tokenizer : tokenizer;
  if (tok_path.empty()) throw ConfigError(name + ": no tokenizer known for this model; pass --tokenizer FILE");
  const data::Tokenizer tok = data::Tokenizer::load(tok_path);
  arch::CausalLM model = src.model;
  model->eval();
  const arch::ModelSpec& spec = model->spec();
  if (tok.vocab_size() > spec.vocab_size)
    throw ConfigError(fmt::format("{}: tokenizer vocabulary {} exceeds the model's vocab_size {}", tok_path,
                                  tok.vocab_size(), spec.vocab_size));
  std::vector<int32_t> ids = tok.encode(prompt);
  if (ids.empty()) ids.push_back(tok.eos_id());  // an empty prompt is conditioned on eos, as lm-eval does
  const int64_t n_prompt = int64_t(ids.size());
  if (n_prompt + max_new > spec.max_seq_len)
    throw ConfigError(fmt::format("--max-new {}: the prompt's {} tokens + {} exceed the model's max_seq_len {}",
                                  max_new, n_prompt, max_new, spec.max_seq_len));

  torch::NoGradGuard no_grad;
  kernels::compat::AutocastGuard autocast(bf16, c10::DeviceType::CPU);
  auto gen = at::detail::createCPUGenerator(seed);
  arch::KVCache cache = model->new_cache(n_prompt + max_new, torch::kCPU);
  std::vector<int64_t> prompt_ids(ids.begin(), ids.end());
  const auto t0 = std::chrono::steady_clock::now();
  constexpr auto kLast = arch::CausalLMImpl::Logits::kLast;  // generation reads the last position only
  auto logits = model->forward_cached(torch::tensor(prompt_ids, torch::kInt64).unsqueeze(0), cache, kLast);
  std::vector<int32_t> out;
  int64_t next = next_token(logits[0][0], s, gen);
  const double ttft_ms = ms_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  bool eos = false;
  while (true) {
    if (next == tok.eos_id()) {
      eos = true;
      break;
    }
    out.push_back(int32_t(next));
    if (int64_t(out.size()) == max_new) break;
    logits = model->forward_cached(torch::tensor({next}, torch::kInt64).unsqueeze(0), cache, kLast);
    next = next_token(logits[0][0], s, gen);
  }
  const double decode_ms = ms_since(t1);
  // Which path the one-token forwards took (arch/model.h): the decode kernel or LibTorch's operators
  // (under autocast, for one: the kernel runs fp32 or bf16 weights, not autocast's casts).
  const bool kernel = model->decode_step_applies(torch::zeros({1, 1}, torch::kInt64), cache);
  std::cout << prompt << tok.decode(out) << "\n";
  const int64_t steps = std::max<int64_t>(0, int64_t(out.size()) - 1 + (eos ? 1 : 0));  // forwards after the prefill
  fmt::print(stderr,
             "generate: {} prompt tokens, {} new{}; time to first token {:.1f} ms; decode {:.1f} tokens/s "
             "({:.2f} ms per token, {} layers executed, {} threads{}, {})\n",
             n_prompt, out.size(), eos ? " (stopped at eos)" : "", ttft_ms,
             steps > 0 ? 1e3 * double(steps) / decode_ms : 0.0, steps > 0 ? decode_ms / double(steps) : 0.0,
             spec.n_layers, at::get_num_threads(), bf16 ? ", bf16 autocast" : "",
             kernel ? "decode kernel" : "LibTorch decode path");
  return 0;
}

}  // namespace sharelab::runner
