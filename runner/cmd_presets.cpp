// `runner presets` and `runner describe`: the registry and its accounting, as tables.
#include <fmt/format.h>

#include <iostream>

#include "arch/accounting.h"
#include "arch/registry.h"
#include "common/cli.h"
#include "runner/commands.h"

namespace sharelab::runner {

namespace {

using namespace sharelab::arch;

std::string scheme_label(const ModelSpec& s) {
  if (s.repeats) return fmt::format("{} k={}", s.scheme, s.repeats);
  if (s.unique_blocks) return fmt::format("{} M={}", s.scheme, s.unique_blocks);
  return s.scheme;
}

std::string millions(int64_t n) { return fmt::format("{:.1f}M", double(n) / 1e6); }

// Paper-style rounding of our count, in the unit the paper's string uses (B or M).
std::string as_paper(int64_t n, const std::string& paper) {
  if (paper.empty()) return "";
  if (paper.back() == 'B') {
    auto dot = paper.find('.');
    int decimals = dot == std::string::npos ? 0 : int(paper.size() - dot - 2);
    return fmt::format("{:.{}f}B", double(n) / 1e9, decimals);
  }
  return format_count_card(n);
}

}  // namespace

int cmd_presets(const Args& args) {
  po::options_description opts("runner presets");
  bool compare = false, list_schemes = false;
  int64_t seq = 2048;
  opts.add_options()("compare-paper", po::bool_switch(&compare), "add the paper's parameter count beside ours")(
      "schemes", po::bool_switch(&list_schemes), "list the sharing schemes instead")(
      "seq", po::value(&seq)->default_value(2048), "sequence length for GFLOPs/token");
  po::variables_map vm;
  if (!parse_command("runner presets [--compare-paper] [--schemes] [--seq N]", opts, {}, args, vm)) return 0;

  if (list_schemes) {
    fmt::print("{:<16} {:<14} {}\n", "scheme", "option", "what is shared");
    for (const auto& s : schemes())
      fmt::print("{:<16} {:<14} {}\n", s.name,
                 s.arg == SchemeArg::kRepeats ? "repeats=k" : s.arg == SchemeArg::kUniqueBlocks ? "unique_blocks=M" : "-",
                 s.summary);
    return 0;
  }

  fmt::print("{:<22} {:>6} {:>7} {:>7} {:>6} {:>6} {:<5} {:<14} {:>10} {:>10} {:>9}", "preset", "layers", "d_model",
             "heads", "ffn", "vocab", "tied", "scheme", "unique", "effective", "GFLOP/tok");
  if (compare) fmt::print("  {:>7} {:>9} {:>11}  {}", "paper", "ours", "ours-norms", "source");
  fmt::print("\n");
  for (const auto& p : presets()) {
    ModelSpec s = p.make();
    std::string heads = fmt::format("{}/{}", s.n_heads, s.n_kv_heads);
    fmt::print("{:<22} {:>6} {:>7} {:>7} {:>6} {:>6} {:<5} {:<14} ", p.name, s.n_layers, s.d_model, heads, s.ffn_dim,
               s.vocab_size, s.tie_embeddings ? "yes" : "no", scheme_label(s));
    try {
      s.validate();
      const int64_t uniq = unique_params(s).total();
      fmt::print("{:>10} {:>10} {:>9.3f}", millions(uniq), millions(effective_params(s).total()),
                 forward_flops_per_token(s, std::min(seq, s.max_seq_len)) / 1e9);
      if (compare)
        fmt::print("  {:>7} {:>9} {:>11}  {}", p.paper_params, as_paper(uniq, p.paper_params),
                   as_paper(uniq - unique_params(s).norm, p.paper_params), p.source);
    } catch (const ConfigError& e) {
      fmt::print("invalid: {}", e.what());
      if (compare) fmt::print("  (paper {}; {})", p.paper_params, p.source);
    }
    fmt::print("\n");
  }
  fmt::print("\nunique = parameters stored once; effective = parameters used per forward (shared modules counted per use,"
             " = HF export size).\n{}GFLOP/tok = forward FLOPs per token at seq {} (2 x matmul weights + 4 x layers x seq x"
             " attention width).\n",
             compare ? "ours = our unique count in the paper's rounding; ours-norms = the same without RMSNorm weights "
                       "(the MobileLLM card's convention).\n" : "", seq);
  return 0;
}

int cmd_describe(const Args& args) {
  po::options_description opts("runner describe");
  std::string name;
  std::vector<std::string> sets;
  int64_t seq = 0;
  opts.add_options()("preset", po::value(&name)->required(), "preset name (runner presets)")(
      "set", po::value(&sets)->multitoken()->composing(), "override a field: key=value (repeatable)")(
      "seq", po::value(&seq)->default_value(0), "sequence length for FLOPs (default: max_seq_len)");
  po::positional_options_description pos;
  pos.add("preset", 1);
  po::variables_map vm;
  if (!parse_command("runner describe PRESET [--set key=value ...]", opts, pos, args, vm)) return 0;

  const Preset& p = preset_by_name(name);
  ModelSpec s = resolve_preset(name, sets);
  const auto l = s.layout();
  if (seq <= 0) seq = s.max_seq_len;
  fmt::print("preset   {}\nsource   {}\n\n[model]\n{}\n", p.name, p.source, spec_to_text(s));
  auto join = [](const std::vector<int64_t>& v) {
    std::string out;
    for (auto x : v) out += (out.empty() ? "" : " ") + std::to_string(x);
    return out;
  };
  fmt::print("[layout]  slot -> unique module\nattn_of      {}\nffn_of       {}\nattn_norm_of {}\nffn_norm_of  {}\n",
             join(l.attn_of), join(l.ffn_of), join(l.attn_norm_of), join(l.ffn_norm_of));
  fmt::print("unique modules: {} attention, {} FFN, {} + {} norms\n\n", l.n_attn, l.n_ffn, l.n_attn_norm, l.n_ffn_norm);
  const ParamCounts u = unique_params(s), e = effective_params(s);
  fmt::print("{:<12} {:>15} {:>15}\n", "params", "unique", "effective");
  auto row = [](const char* k, int64_t a, int64_t b) { fmt::print("{:<12} {:>15L} {:>15L}\n", k, a, b); };
  row("embedding", u.embedding, e.embedding);
  row("attention", u.attention, e.attention);
  row("ffn", u.ffn, e.ffn);
  row("norm", u.norm, e.norm);
  row("total", u.total(), e.total());
  fmt::print("\nunique {} (rounded); {} without norm weights, as the MobileLLM card counts; non-embedding {}\n",
             format_count_card(u.total()), format_count_card(u.total() - u.norm), format_count_card(u.non_embedding()));
  fmt::print("forward FLOPs/token at seq {}: {:.4f} GFLOP (training ~3x: {:.4f})\n", seq,
             forward_flops_per_token(s, seq) / 1e9, 3 * forward_flops_per_token(s, seq) / 1e9);
  fmt::print("unique weight bytes: fp32 {:.1f} MiB, bf16 {:.1f} MiB, int8 {:.1f} MiB, q4 {:.1f} MiB\n",
             weight_bytes(s, "fp32") / 1048576, weight_bytes(s, "bf16") / 1048576, weight_bytes(s, "int8") / 1048576,
             weight_bytes(s, "q4") / 1048576);
  return 0;
}

}  // namespace sharelab::runner
