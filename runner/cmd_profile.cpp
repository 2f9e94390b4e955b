// `runner profile PRESET...`: Table 11's latencies (load, init, forward) at full paper size on this
// device, per dtype, printed as a table and stored in the results database (profiles table).
#include <fmt/format.h>

#include <iostream>

#include "arch/layer_reuse.h"
#include "arch/registry.h"
#include "common/cli.h"
#include "runner/commands.h"
#include "runner/profile/profiler.h"
#include "runner/store/results_store.h"

namespace sharelab::runner {

namespace {

// The decode table: batch-1 generation through the KV cache, and the per-executed-layer split that
// says whether an immediately repeated block is cheaper the second time (its weights still cached).
void print_decode(const std::vector<profile::ProfileResult>& results, const profile::ProfileOptions& o,
                  const std::vector<std::string>& sets) {
  fmt::print("\nbatch-1 greedy decoding: prompt {} tokens, then {} tokens one forward each; {} repeats after {} "
             "warm-up\n",
             o.prompt_len, o.decode, o.repeats, o.warmup);
  fmt::print("{:<28} {:<5} {:>6} {:>9} {:>10} {:>15} {:>11} {:>11} {:>11} {:>10}\n", "preset", "dtype", "layers",
             "TTFT ms", "decode t/s", "(min-max)", "ms/layer", "first ms", "repeat ms", "peak MiB");
  for (const auto& r : results) {
    const arch::ModelSpec spec = arch::resolve_preset(r.preset, sets);
    std::string per_layer = "-", first = "-", repeat = "-";  // no per-layer pass under --decode-only
    if (!r.decode_per_layer_ms.empty()) {
      const auto split = arch::split_layers(spec, r.decode_per_layer_ms);
      per_layer = fmt::format("{:.4f}", profile::median(r.decode_per_layer_ms));
      first = fmt::format("{:.4f}", split.first_ms);
      if (split.repeat_n) repeat = fmt::format("{:.4f}", split.repeat_ms);
    }
    fmt::print("{:<28} {:<5} {:>6} {:>9.1f} {:>10.1f} {:>15} {:>11} {:>11} {:>11} {:>10.0f}\n", r.preset, r.dtype,
               spec.n_layers, r.ttft_ms, r.decode_tok_s,
               fmt::format("({:.1f}-{:.1f})", r.decode_tok_s_min, r.decode_tok_s_max), per_layer, first, repeat,
               double(r.decode_peak_mem_bytes) / 1048576.0);
  }
  fmt::print(
      "ms/layer = median over executed layers of the per-token time in a separate hooked pass; first = mean over "
      "layers whose blocks differ from the previous layer's, repeat = mean over immediate repeats (the same attention "
      "and FFN as the layer before: their weights were just read).\n");
}

}  // namespace

int cmd_profile(const Args& args) {
  po::options_description opts("runner profile");
  std::vector<std::string> names, dtypes, sets;
  profile::ProfileOptions o;
  std::string db;
  opts.add_options()("preset", po::value(&names)->required(), "presets to profile (runner presets)")(
      "dtype", po::value(&dtypes)->multitoken()->default_value({"fp32"}, "fp32"), "fp32, bf16 or fp32,bf16")(
      "batch", po::value(&o.batch)->default_value(1), "rows per forward")(
      "seq", po::value(&o.seq)->default_value(128), "tokens per row")("warmup", po::value(&o.warmup)->default_value(2),
                                                                      "untimed forwards first")(
      "repeats", po::value(&o.repeats)->default_value(5), "timed forwards (median, min, max)")(
      "threads", po::value(&o.threads)->default_value(0), "CPU threads (0 = all cores)")(
      "device", po::value(&o.device)->default_value("cpu"), "cpu or cuda[:N]")(
      "set", po::value(&sets)->multitoken()->composing(), "override a model field: key=value (repeatable)")(
      "work-dir", po::value(&o.work_dir)->default_value("results/profile"), "where the load-timing checkpoint goes")(
      "keep-checkpoint", po::bool_switch(&o.keep_checkpoint), "keep that checkpoint (deleted by default)")(
      "decode", po::value(&o.decode)->default_value(0), "also time batch-1 decoding of N tokens (0 = off)")(
      "prompt", po::value(&o.prompt_len)->default_value(128), "prompt tokens before decoding (time to first token)")(
      "decode-only", po::bool_switch(&o.decode_only),
      "time init and decoding alone (no load, forwards or per-layer pass; nothing stored): for rounds "
      "interleaved with another decoder")(
      "db", po::value(&db)->default_value(store::kDefaultDb), "results database ('' = do not store)");
  po::positional_options_description pos;
  pos.add("preset", -1);
  po::variables_map vm;
  const char* usage =
      "runner profile PRESET... [--dtype fp32,bf16] [--batch B] [--seq T] [--warmup N] [--repeats N] [--threads N] "
      "[--decode N [--prompt P] [--decode-only]] [--db PATH]";
  if (!parse_command(usage, opts, pos, args, vm)) return 0;
  dtypes = split_commas(dtypes);

  // Validate everything before the first (possibly minutes-long) measurement.
  std::vector<arch::ModelSpec> specs;
  for (const auto& n : names) specs.push_back(arch::resolve_preset(n, sets));
  for (const auto& d : dtypes)
    if (d != "fp32" && d != "bf16") throw ConfigError("runner profile: --dtype '" + d + "'; expected fp32 or bf16");
  std::unique_ptr<store::ResultsStore> store;
  if (!db.empty() && !o.decode_only) store = std::make_unique<store::ResultsStore>(db, store::ResultsStore::Access::kWrite);

  std::vector<profile::ProfileResult> results;
  for (const auto& spec : specs)
    for (const auto& d : dtypes) {
      o.dtype = d;
      std::cerr << fmt::format("profile: {} {} batch {} seq {} ...\n", spec.name, d, o.batch, o.seq);
      results.push_back(profile::profile_model(spec, o));
      if (store) store->put_profile(profile::to_profile_row(results.back()));
    }

  if (o.decode_only) {
    print_decode(results, o, sets);
    return 0;
  }
  fmt::print("{}; batch {} x seq {}; forward = median of {} after {} warm-up (min-max)\n", results.front().device,
             o.batch, o.seq, o.repeats, o.warmup);
  fmt::print("{:<18} {:<5} {:>8} {:>10} {:>10} {:>12} {:>19} {:>10} {:>14} {:>7}\n", "preset", "dtype", "params",
             "load ms", "init ms", "forward ms", "(min-max)", "peak MiB", "layer ms med", "loadavg");
  for (const auto& r : results)
    fmt::print("{:<18} {:<5} {:>7.0f}M {:>10.1f} {:>10.1f} {:>12.1f} {:>19} {:>10.0f} {:>14.2f} {:>7.2f}\n", r.preset,
               r.dtype, double(r.unique_params) / 1e6, r.load_ms, r.init_ms, r.fwd_median_ms,
               fmt::format("({:.1f}-{:.1f})", r.fwd_min_ms, r.fwd_max_ms), double(r.peak_mem_bytes) / 1048576.0,
               profile::median(r.per_layer_ms), r.load_avg_1m);
  fmt::print("versions: {}\n", results.front().versions_json);
  fmt::print(
      "load = read the native HDF5 checkpoint + copy into the constructed model (page cache warm); init = "
      "construct + initialise + cast; peak = RSS high-water over the forwards; loadavg = 1-minute load average "
      "at the start (> threads means other processes competed for the cores).\n");
  if (o.decode > 0) print_decode(results, o, sets);
  if (store) fmt::print("stored {} profile rows in {}\n", results.size(), db);
  return 0;
}

}  // namespace sharelab::runner
