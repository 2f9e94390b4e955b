// Cell values for the paper tables.
#include "analysis/table_builder.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>

#include "arch/accounting.h"
#include "arch/cost_model.h"
#include "arch/layer_reuse.h"
#include "common/errors.h"
#include "arch/registry.h"
#include "analysis/stats.h"

namespace sharelab::analysis {

namespace {

const char* kMissing = "missing";

struct Value {
  std::optional<double> number;  // empty = missing
  std::string text;              // pre-formatted text values (profile:setup, fwd_range)
  std::string provenance;
  double stderr_ = -1;           // evaluations: lm-eval's binomial stderr (-1: none)
  double chance = -1;            // evaluations: the task's chance level (-1: unknown)
};

const char* kAtChance = " †";

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string format_number(double v, const ColumnSpec& c) {
  v *= c.scale;
  // MobiLlama prints sizes in billions ("0.52B"), MobileLLM in millions below 1B ("124.6M").
  if (c.format == "billions") return fmt::format("{:.{}f}B", v / 1e9, c.decimals);
  if (c.format == "count")
    return v >= 1e9 ? fmt::format("{:.{}f}B", v / 1e9, c.decimals) : fmt::format("{:.{}f}M", v / 1e6, c.decimals);
  if (c.format == "thousands") return fmt::format("{:.{}f}K", v / 1e3, c.decimals);
  if (c.format == "days") return fmt::format("{:.{}f} days", v, c.decimals);
  if (c.format == "gb") return fmt::format("{:.{}f} GB", v, c.decimals);
  if (c.format == "int") return fmt::format("{:.0f}", v);
  return fmt::format("{:.{}f}", v, c.decimals);
}

std::string upper(std::string s) {
  for (auto& ch : s) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

arch::ModelSpec preset_spec(const TableSpec& t, const RowSpec& row) {
  try {
    return arch::resolve_preset(row.preset, row.set);
  } catch (const ConfigError& e) {
    throw ConfigError(t.path + ": row '" + row.label + "': preset: " + e.what());
  }
}

Value eval_value(const RunData& r, const std::string& arg) {
  // arg = "TASK|TASK2:METRIC"; several rows (protocols, shots) -> the first in sorted order.
  const auto colon = arg.rfind(':');
  const auto tasks = split(arg.substr(0, colon), '|');
  const std::string metric = arg.substr(colon + 1);
  const store::EvalRow* best = nullptr;
  for (const auto& e : r.evals)
    if (e.metric == metric && std::find(tasks.begin(), tasks.end(), e.task) != tasks.end())
      if (!best || std::tie(e.task, e.protocol, e.shots) < std::tie(best->task, best->protocol, best->shots)) best = &e;
  if (!best) return {};
  Value v{best->value, "", run_provenance(r), best->stderr_, -1};
  // The mean chance level over the scored documents, stored by the evaluation (details.chance).
  const auto details = nlohmann::json::parse(best->details_json, nullptr, false);  // discarded when not JSON
  if (details.is_object() && details.contains("chance") && details["chance"].is_object() &&
      details["chance"].contains(metric) && details["chance"][metric].is_number())
    v.chance = details["chance"][metric].get<double>();
  return v;
}

// project:WHAT[:KEY=VALUE,...]. The keys configure the data-parallel projection (dp_* and the step
// terms): batch = global batch in rows of `seq` tokens (required), per_node = devices per node
// (default 8), net_gbps = inter-node bandwidth per node in Gb/s (required when the devices span
// nodes), grad = fp32|bf16 (the dtype all-reduced, default fp32), flash = 1|0 (activation memory,
// default 1).
struct DpParams {
  int64_t batch = 0;
  int per_node = 8;
  double net_gbps = 0;
  std::string grad = "fp32";
  bool flash = true;
};

DpParams parse_dp_params(const TableSpec& t, const ColumnSpec& c, const std::string& params) {
  DpParams d;
  const auto fail = [&](const std::string& why) {
    throw ConfigError(t.path + ": column '" + c.label + "': " + c.value + ": " + why +
                      " (keys: batch, per_node, net_gbps, grad, flash)");
  };
  const auto number = [&](const std::string& k, const std::string& v) {
    try {
      size_t used = 0;
      const double x = std::stod(v, &used);
      if (used != v.size() || !(x > 0)) fail(k + " = '" + v + "' is not a positive number");
      return x;
    } catch (const std::logic_error&) {
      fail(k + " = '" + v + "' is not a positive number");
    }
    return 0.0;
  };
  const auto whole = [&](const std::string& k, const std::string& v) {
    const double x = number(k, v);
    if (x != std::floor(x)) fail(k + " = '" + v + "' is not a whole number");
    return x;
  };
  if (params.empty()) return d;
  for (const auto& kv : split(params, ',')) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) fail("'" + kv + "' is not KEY=VALUE");
    const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "batch")
      d.batch = int64_t(whole(k, v));
    else if (k == "per_node")
      d.per_node = int(whole(k, v));
    else if (k == "net_gbps")
      d.net_gbps = number(k, v);
    else if (k == "grad")
      d.grad = v;
    else if (k == "flash" && (v == "0" || v == "1"))
      d.flash = v == "1";
    else
      fail("unknown or bad '" + kv + "'");
  }
  return d;
}

Value project_value(const TableSpec& t, const RowSpec& row, const ColumnSpec& c, const std::string& arg,
                    const DbView& view, const BuildOptions& opt) {
  const auto colon = arg.find(':');
  const std::string what = arg.substr(0, colon);
  const std::string params = colon == std::string::npos ? "" : arg.substr(colon + 1);
  const arch::ModelSpec s = preset_spec(t, row);
  const arch::Accelerator& acc = arch::accelerator_by_name(c.accelerator);
  if (what == "state_gb") {
    arch::MemoryOptions mo;
    mo.seq = c.seq;
    const auto m = arch::train_memory(s, mo);
    return {(m.weights + m.gradients + m.optimizer) / 1e9, "",
            "projected: model state for training = 16 bytes per unique parameter (fp32 weights + fp32 gradients + "
            "AdamW 2 x fp32; activations excluded)"};
  }
  double mfu = c.mfu;
  std::string how;
  if (opt.mfu > 0) {
    mfu = opt.mfu;
    how = "set by --mfu";
  } else if (c.tokens_per_s > 0) {
    mfu = arch::mfu_from_throughput(s, c.seq, c.tokens_per_s, acc.peak_bf16_flops);
    how = fmt::format("implied by {:.0f} tokens/s per device", c.tokens_per_s);
  } else if (mfu > 0) {
    how = "assumed";
  } else {
    mfu = calibrated_mfu(view, c.accelerator, how);
  }
  if (c.tokens <= 0) throw ConfigError(t.path + ": column '" + c.label + "': project: needs tokens > 0");
  if (what == "gpu_hours" || what == "days") {
    const arch::Projection p = arch::project_training(s, c.seq, c.tokens, acc, mfu, c.devices);
    std::string prov = fmt::format("projected: {} x {} at MFU {:.2f} ({}), {} tokens, seq {}", c.devices, acc.label,
                                   mfu, how, short_count(c.tokens), c.seq);
    if (what == "gpu_hours") return {p.device_hours, "", prov};
    return {p.wall_s / 86400.0, "", prov};
  }
  // Data parallelism: compute + the terms that scale with unique parameters (arch/cost_model.h).
  const DpParams d = parse_dp_params(t, c, params);
  arch::DataParallelOptions o;
  o.seq = c.seq;
  o.global_batch = d.batch;
  o.n_devices = c.devices;
  o.devices_per_node = d.per_node;
  o.internode_bytes_per_s = d.net_gbps * 1e9 / 8.0;
  o.mfu = mfu;
  o.grad_dtype = d.grad;
  o.flash_attention = d.flash;
  arch::StepTime st;
  try {
    st = arch::project_data_parallel(s, c.tokens, acc, o);
  } catch (const ConfigError& e) {
    throw ConfigError(t.path + ": column '" + c.label + "': " + e.what());
  }
  const int nodes = (c.devices + d.per_node - 1) / d.per_node;
  const std::string prov = fmt::format(
      "projected: data parallel on {} x {} ({} node{} of {}{}), ring all-reduce of {} gradients at {:.0f} GB/s bus "
      "bandwidth, global batch {} x seq {}, compute at MFU {:.2f} ({}), AdamW, {} tokens",
      c.devices, acc.label, nodes, nodes == 1 ? "" : "s", d.per_node,
      nodes > 1 ? fmt::format(", {:.0f} Gb/s per node", d.net_gbps) : std::string(", NVLink"), d.grad,
      st.bus_bytes_per_s / 1e9, d.batch, c.seq, mfu, how, short_count(c.tokens));
  if (what == "dp_gpu_hours") return {st.device_hours, "", prov};
  if (what == "dp_days") return {st.wall_s / 86400.0, "", prov};
  if (what == "step_ms") return {st.step_s * 1e3, "", prov};
  if (what == "allreduce_ms") return {st.allreduce_s * 1e3, "", prov};
  if (what == "exposed_allreduce_ms") return {st.allreduce_exposed_s * 1e3, "", prov};
  if (what == "optimizer_ms") return {st.optimizer_s * 1e3, "", prov};
  if (what == "max_micro_batch") return {double(st.max_micro_batch), "", prov};
  if (what == "accumulation_steps") return {double(st.accumulation_steps), "", prov};
  if (what == "dp_mfu") return {st.mfu_implied, "", prov};
  throw ConfigError(t.path + ": column '" + c.label + "': unknown project:" + what +
                    " (gpu_hours, days, state_gb, dp_gpu_hours, dp_days, step_ms, allreduce_ms, exposed_allreduce_ms, "
                    "optimizer_ms, max_micro_batch, accumulation_steps, dp_mfu)");
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// profile:decode_* columns: batch-1 decoding from the latest profile that timed it (runner profile --decode).
Value decode_value(const TableSpec& t, const RowSpec& row, const ColumnSpec& c, const std::string& what,
                   const DbView& view) {
  const store::ProfileRow* p = find_profile(view, row.preset, row.dtype, /*with_decode=*/true);
  if (!p) return {};
  const auto versions = nlohmann::json::parse(p->versions_json, nullptr, false);
  const std::string load =
      versions.contains("loadavg_1m") ? ", load average " + versions["loadavg_1m"].dump() : std::string();
  const std::string prov =
      fmt::format("measured here: runner profile {} {} --decode {} --prompt {} ({}{}, {})", p->preset, p->dtype,
                  p->decode_tokens, p->prompt_len, p->device, load, p->created_at);
  const auto per_layer = nlohmann::json::parse(p->decode_per_layer_ms_json, nullptr, false);
  std::vector<double> layers;
  if (per_layer.is_array())
    for (const auto& x : per_layer) layers.push_back(x.get<double>());
  const arch::ModelSpec spec = preset_spec(t, row);
  const arch::LayerSplit split = arch::split_layers(spec, layers);
  if (what == "decode_tok_s") return {p->decode_tok_s, "", prov};
  if (what == "decode_range")
    return {p->decode_tok_s,
            fmt::format("{:.{}f} ({:.{}f}-{:.{}f})", p->decode_tok_s, c.decimals, p->decode_tok_s_min, c.decimals,
                        p->decode_tok_s_max, c.decimals),
            prov};
  if (what == "decode_ttft_ms") return {p->ttft_ms, "", prov};
  if (what == "decode_peak_mib") return {double(p->decode_peak_mem_bytes) / 1048576.0, "", prov};
  if (what == "decode_ms_per_layer" && !layers.empty()) return {median_of(layers), "", prov};
  if (what == "decode_first_ms" && split.first_n) return {split.first_ms, "", prov};
  if (what == "decode_repeat_ms")  // a layout without immediate repeats has nothing to measure here
    return split.repeat_n ? Value{split.repeat_ms, "", prov} : Value{0.0, "-", "computed: no layer repeats the one before"};
  if (what == "decode_setup")
    return {0.0, fmt::format("{} {}+{} {}T", p->dtype, p->prompt_len, p->decode_tokens, p->threads), prov};
  if (what == "decode_ms_per_layer" || what == "decode_first_ms") return {};
  throw ConfigError(t.path + ": column '" + c.label + "': unknown profile:" + what +
                    " (decode_tok_s, decode_range, decode_ttft_ms, decode_peak_mib, decode_ms_per_layer, "
                    "decode_first_ms, decode_repeat_ms, decode_setup)");
}

Value profile_value(const TableSpec& t, const RowSpec& row, const ColumnSpec& c, const std::string& what,
                    const DbView& view) {
  if (what.rfind("decode_", 0) == 0) return decode_value(t, row, c, what, view);
  const store::ProfileRow* p = find_profile(view, row.preset, row.dtype);
  if (!p) return {};
  // The load average at measurement time (recorded by runner profile): a busy machine inflates latency.
  std::string load;
  const auto versions = nlohmann::json::parse(p->versions_json, nullptr, false);  // discarded when not JSON
  if (versions.contains("loadavg_1m")) load = ", load average " + versions["loadavg_1m"].dump();
  const std::string prov = fmt::format("measured here: runner profile {} {} ({}, batch {} x seq {}{}, {})", p->preset,
                                       p->dtype, p->device, p->batch, p->seq, load, p->created_at);
  if (what == "load_ms") return {p->load_ms, "", prov};
  if (what == "init_ms") return {p->init_ms, "", prov};
  if (what == "fwd_median_ms") return {p->fwd_median_ms, "", prov};
  if (what == "peak_mem_mib") return {double(p->peak_mem_bytes) / 1048576.0, "", prov};
  if (what == "fwd_range")
    return {p->fwd_median_ms,
            fmt::format("{:.{}f} ({:.{}f}-{:.{}f})", p->fwd_median_ms, c.decimals, p->fwd_min_ms, c.decimals,
                        p->fwd_max_ms, c.decimals),
            prov};
  if (what == "setup") return {0.0, fmt::format("{} {}x{} {}T", p->dtype, p->batch, p->seq, p->threads), prov};
  throw ConfigError(t.path + ": column '" + c.label + "': unknown profile:" + what +
                    " (load_ms, init_ms, fwd_median_ms, fwd_range, peak_mem_mib, setup, decode_*)");
}

Value spec_value(const TableSpec& t, const RowSpec& row, const ColumnSpec& c, const std::string& what) {
  const arch::ModelSpec s = preset_spec(t, row);
  const std::string prov = "computed: accounting of the row's preset at paper geometry (arch/accounting.h)";
  if (what == "unique_params") return {double(arch::unique_params(s).total()), "", prov};
  if (what == "effective_params") return {double(arch::effective_params(s).total()), "", prov};
  if (what == "n_layers") return {double(s.n_layers), "", prov};
  if (what == "d_model") return {double(s.d_model), "", prov};
  throw ConfigError(t.path + ": column '" + c.label + "': unknown spec:" + what +
                    " (unique_params, effective_params, n_layers, d_model)");
}

}  // namespace

double calibrated_mfu(const DbView& view, const std::string& accelerator, std::string& how) {
  const std::string key = upper(accelerator.substr(0, accelerator.find('-')));  // "A100"
  std::vector<double> mfus;
  for (const auto& r : view.runs)
    if (r.run.status == "finished" && upper(r.run.device).find(key) != std::string::npos)
      if (auto m = scalar(r, "mfu")) mfus.push_back(*m);
  if (mfus.empty()) {
    how = "assumed; no run measured on " + key + " in the database";
    return arch::kDefaultMfu;
  }
  std::sort(mfus.begin(), mfus.end());
  how = fmt::format("calibrated: median of {} measured {} runs", mfus.size(), key);
  return mfus[mfus.size() / 2];
}

namespace {

bool is_measured(const std::string& kind) { return kind == "eval" || kind == "scalar" || kind == "mean"; }

// One column of one run (run == nullptr: the row has no finished run). `earlier`: this run's
// values of the earlier columns, by label, for mean:.
Value measured_value(const TableSpec& spec, const ColumnSpec& c, const std::string& kind, const std::string& arg,
                     const RunData* run, const std::map<std::string, Value>& earlier) {
  if (kind == "eval") return run ? eval_value(*run, arg) : Value{};
  if (kind == "scalar") {
    if (run)
      if (auto x = scalar(*run, arg)) return {*x, "", run_provenance(*run)};
    return {};
  }
  // mean: every item present, else missing. Its stderr combines the items' (independent documents);
  // its chance level is the mean of theirs.
  Value v;
  double sum = 0, se2 = 0, chance = 0;
  bool all = true, all_se = true, all_chance = true;
  const auto labels = split(arg, ',');
  for (const auto& l : labels) {
    Value item;
    if (l.rfind("eval:", 0) == 0) {
      if (run) item = eval_value(*run, l.substr(5));
    } else if (l.rfind("scalar:", 0) == 0) {
      if (run)
        if (auto x = scalar(*run, l.substr(7))) item = {*x, "", run_provenance(*run)};
    } else {
      auto it = earlier.find(l);
      if (it == earlier.end())
        throw ConfigError(spec.path + ": column '" + c.label + "': mean: no earlier column labelled '" + l + "'");
      item = it->second;
    }
    if (!item.number) {
      all = false;
      continue;
    }
    sum += *item.number;
    all_se &= item.stderr_ >= 0;
    se2 += item.stderr_ * item.stderr_;
    all_chance &= item.chance >= 0;
    chance += item.chance;
    if (v.provenance.empty()) v.provenance = item.provenance;
  }
  if (!all) return {};
  const double k = double(labels.size());
  v.number = sum / k;
  if (all_se) v.stderr_ = std::sqrt(se2) / k;
  if (all_chance) v.chance = chance / k;
  return v;
}

// A row's values of one column: one per seed for measured columns, else one shared value.
struct ColumnResult {
  bool measured = false;
  Value shared;                                     // !measured
  std::vector<std::pair<int64_t, Value>> per_seed;  // measured: (seed, value) per run
};

std::string plain(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

CellStats stats_of(const Interval& iv) {
  CellStats st;
  st.n = iv.n;
  st.mean = iv.mean;
  st.sd = iv.sd;
  st.low = iv.has_interval() ? iv.low() : iv.mean;  // one value: no interval, low = high = mean
  st.high = iv.has_interval() ? iv.high() : iv.mean;
  return st;
}

// The printed cell of a measured column over the row's seeds (values already in printed units).
Cell aggregate(const ColumnSpec& c, const std::vector<const RunData*>& runs, const ColumnResult& r) {
  std::vector<double> xs;
  std::vector<const RunData*> with;
  double se = 0, chance = -1;
  bool all_se = true;
  for (size_t i = 0; i < r.per_seed.size(); ++i) {
    const Value& v = r.per_seed[i].second;
    if (!v.number) continue;
    xs.push_back(*v.number * c.scale);
    with.push_back(runs[i]);
    all_se &= v.stderr_ >= 0;
    se += v.stderr_ * c.scale;
    chance = v.chance >= 0 ? v.chance * c.scale : -1;
  }
  if (xs.empty()) return {kMissing, "", std::nullopt};
  const Interval iv = t_interval(xs);
  CellStats st = stats_of(iv);
  if (all_se) st.stderr_ = se / double(xs.size());  // the same documents for every seed: not divided by n
  st.chance = chance;
  // Seeds vary the model, the documents are fixed: both spreads count, added in quadrature.
  const double binom = st.stderr_ >= 0 ? 1.959964 * st.stderr_ : 0.0;
  const double half = std::sqrt(iv.half * iv.half + binom * binom);
  st.at_chance = st.chance >= 0 && half > 0 && std::fabs(st.mean - st.chance) <= half;
  ColumnSpec unscaled = c;
  unscaled.scale = 1.0;
  std::string text = format_number(st.mean, unscaled);
  if (iv.has_interval()) text += fmt::format(" ± {} (n={})", plain(iv.half, c.decimals), iv.n);
  if (st.at_chance) text += kAtChance;
  return {text, runs_provenance(with), st};
}

// The row minus the reference row over their shared seeds, in printed units.
Cell difference(const ColumnSpec& c, const ColumnResult& row, const ColumnResult& ref) {
  std::map<int64_t, double> a, b;
  for (const auto& [seed, v] : ref.per_seed)
    if (v.number) a[seed] = *v.number * c.scale;
  for (const auto& [seed, v] : row.per_seed)
    if (v.number) b[seed] = *v.number * c.scale;
  if (a.empty() || b.empty()) return {kMissing, "", std::nullopt};
  const PairedDifference d = paired_difference(a, b);
  if (d.interval.n == 0) return {"no shared seed", "", std::nullopt};
  const Interval& iv = d.interval;
  const CellStats st = stats_of(iv);
  std::string text = fmt::format("{:+.{}f}", iv.mean, c.decimals);
  text += iv.has_interval() ? fmt::format(" ± {} (n={})", plain(iv.half, c.decimals), iv.n) : " (n=1)";
  return {text, "", st};
}

}  // namespace

Table build_table(const TableSpec& spec, const DbView& view, const BuildOptions& opt) {
  Table t;
  t.id = spec.id;
  t.title = spec.title;
  t.source = spec.source;
  t.notes = spec.notes;

  // The reference row and the columns that show each row's difference to it.
  const std::string reference = opt.reference.empty() ? spec.reference : opt.reference;
  size_t ref_row = spec.rows.size();
  for (size_t i = 0; i < spec.rows.size(); ++i)
    if (spec.rows[i].label == reference) ref_row = i;
  std::vector<bool> diff(spec.columns.size(), false);
  if (ref_row < spec.rows.size()) {
    bool any = false;
    for (size_t j = 0; j < spec.columns.size(); ++j) any |= diff[j] = spec.columns[j].diff;
    if (!any && !opt.reference.empty())  // --reference alone: every measured column
      for (size_t j = 0; j < spec.columns.size(); ++j)
        diff[j] = is_measured(spec.columns[j].value.substr(0, spec.columns[j].value.find(':')));
  }

  t.columns.push_back(spec.first_column);
  for (size_t j = 0; j < spec.columns.size(); ++j) {
    const auto& c = spec.columns[j];
    if (c.paper) t.columns.push_back(c.label + " (paper)");
    t.columns.push_back(c.label + (c.paper ? " (ours)" : ""));
    if (diff[j]) t.columns.push_back(c.label + " Δ");
  }
  std::string sweep_note = view.sweep.empty() ? "any sweep" : "sweep " + view.sweep;
  t.notes.push_back(
      fmt::format("Runs are looked up in {} ({}) by run name (without -seed=S) or preset; \"missing\" = no "
                  "finished run or profile there.",
                  view.path, sweep_note));

  // Values first (the differences need the reference row's), then the cells.
  std::vector<std::vector<const RunData*>> row_runs;
  std::vector<std::vector<ColumnResult>> results;
  for (const auto& row : spec.rows) {
    const auto runs = find_runs(view, row.match);
    std::vector<std::map<std::string, Value>> earlier(std::max<size_t>(1, runs.size()));
    std::vector<ColumnResult> cols;
    for (const auto& c : spec.columns) {
      const auto colon = c.value.find(':');
      const std::string kind = c.value.substr(0, colon), arg = c.value.substr(colon + 1);
      ColumnResult r;
      r.measured = is_measured(kind);
      if (r.measured) {
        for (size_t i = 0; i < earlier.size(); ++i) {
          const RunData* run = runs.empty() ? nullptr : runs[i];
          Value v = measured_value(spec, c, kind, arg, run, earlier[i]);
          earlier[i][c.label] = v;
          if (run) r.per_seed.push_back({stored_seed(*run).value_or(0), v});
        }
      } else {
        if (kind == "spec")
          r.shared = spec_value(spec, row, c, arg);
        else if (kind == "project")
          r.shared = project_value(spec, row, c, arg, view, opt);
        else if (kind == "profile")
          r.shared = profile_value(spec, row, c, arg, view);
        for (auto& e : earlier) e[c.label] = r.shared;
      }
      cols.push_back(std::move(r));
    }
    row_runs.push_back(runs);
    results.push_back(std::move(cols));
  }

  bool any_seeds = false, any_chance = false;
  for (size_t i = 0; i < spec.rows.size(); ++i) {
    const auto& row = spec.rows[i];
    std::vector<Cell> cells{{row.label, "", std::nullopt}};
    size_t paper_i = 0;
    for (size_t j = 0; j < spec.columns.size(); ++j) {
      const auto& c = spec.columns[j];
      const ColumnResult& r = results[i][j];
      if (c.paper) {
        const std::string& p = row.paper[paper_i++];
        cells.push_back({p.empty() ? "n/a" : p, "", std::nullopt});
      }
      if (r.measured) {
        Cell cell = aggregate(c, row_runs[i], r);
        if (cell.stats) {
          any_seeds |= cell.stats->n > 1;
          any_chance |= cell.stats->at_chance;
        }
        cells.push_back(std::move(cell));
      } else if (!r.shared.number) {
        cells.push_back({kMissing, "", std::nullopt});
      } else if (!r.shared.text.empty()) {
        cells.push_back({r.shared.text, r.shared.provenance, std::nullopt});
      } else if (c.format == "text") {
        cells.push_back({fmt::format("{}", *r.shared.number), r.shared.provenance, std::nullopt});
      } else {
        cells.push_back({format_number(*r.shared.number, c), r.shared.provenance, std::nullopt});
      }
      if (diff[j])
        cells.push_back(i == ref_row ? Cell{"(reference)", "", std::nullopt} : difference(c, r, results[ref_row][j]));
    }
    t.rows.push_back(std::move(cells));
  }
  t.notes.push_back("n/a = the paper (as shipped in ../shared/papers) prints no value for this cell.");
  if (any_seeds)
    t.notes.push_back("mean ± x (n=N) = the mean over N seeds and the half-width of its 95% t-interval.");
  if (any_chance)
    t.notes.push_back(
        "† = at chance: the 95% interval (over seeds, and lm-eval's binomial stderr of the scored examples) "
        "contains the task's chance level.");
  if (ref_row < spec.rows.size() && std::find(diff.begin(), diff.end(), true) != diff.end())
    t.notes.push_back("Δ = the row minus the reference row '" + reference +
                      "', paired by seed (same seed = same initialisation and data order), with the 95% t-interval "
                      "of the paired differences.");
  return t;
}

}  // namespace sharelab::analysis
