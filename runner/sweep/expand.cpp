// Sweep expansion: runs x grid points, each resolved layer by layer in precedence order, then
// validated with errors that point at the line that set the offending key.
#include "runner/sweep/expand.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/toml_reader.h"
#include "arch/registry.h"
#include "runner/config/config_fields.h"
#include "runner/config/toml_value.h"

namespace sharelab::sweep {

const char* const kPrecedence =
    "preset < extends base(s) < sweep top level < scale < [[run]]/[[variant]] < [grid] point < --set";

namespace {

int64_t round_to(double x, int64_t multiple) {
  return std::max<int64_t>(multiple, int64_t(std::llround(x / double(multiple))) * multiple);
}

// Resolves one run: remembers where each key was last set, for error messages.
class Resolver {
 public:
  Resolver(const std::string& file, const std::string& run) : file_(file), run_(run) {}

  void apply(RunConfig& rc, const std::vector<Assignment>& layer) {
    for (const auto& a : layer) {
      if (a.path == "model.preset") continue;  // chosen first, see choose_preset
      assign(rc, a);
      where_[a.path] = a.where;
    }
  }
  void touched(const std::string& path, const std::string& where) { where_[path] = where; }

  // Where `path` got its value: the last line that set it, else the sweep file (a default).
  std::string where(const std::string& path) const {
    auto it = where_.find(path);
    return it != where_.end() ? it->second : file_;
  }
  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw config_error(where(path), path, what + " (run '" + run_ + "')");
  }

 private:
  std::string file_, run_;
  std::map<std::string, std::string> where_;
};

void check_run(const RunConfig& rc, const Resolver& r, const std::string& file) {
  try {
    arch::scheme_by_name(rc.model.scheme);
  } catch (const ConfigError& e) {
    r.fail("model.scheme", e.what());
  }
  try {
    rc.model.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(file + ": run '" + rc.name + "': " + e.what());
  }
  const config::TrainConfig& t = rc.train;
  if (t.seq_len <= 0) r.fail("train.seq_len", "must be positive");
  if (t.micro_batch <= 0) r.fail("train.micro_batch", "must be positive");
  if (t.seq_len > rc.model.max_seq_len)
    r.fail("train.seq_len", std::to_string(t.seq_len) + " exceeds model.max_seq_len " +
                                std::to_string(rc.model.max_seq_len));
  const int64_t row_tokens = t.micro_batch * t.seq_len;
  if (t.global_batch_tokens <= 0 || t.global_batch_tokens % row_tokens != 0)
    r.fail("train.global_batch_tokens", std::to_string(t.global_batch_tokens) +
                                            " is not a positive multiple of micro_batch x seq_len = " +
                                            std::to_string(row_tokens));
  if (t.steps() < 1)
    r.fail("train.tokens", "budget " + fmt::format("{}", t.tokens) + " tokens is less than one optimizer step (" +
                               std::to_string(t.global_batch_tokens) + " tokens = train.global_batch_tokens)");
  if (!(t.lr > 0)) r.fail("train.lr", "must be positive");
  if (t.warmup_steps < 0) r.fail("train.warmup_steps", "must be >= 0");
  if (t.precision != "bf16" && t.precision != "fp32") r.fail("train.precision", "expected \"bf16\" or \"fp32\"");
  if (t.device != "cpu" && t.device.rfind("cuda", 0) != 0) r.fail("train.device", "expected cpu, cuda or cuda:N");
  if (t.threads < 0) r.fail("train.threads", "must be >= 0 (0 = all cores)");
  if (rc.eval.protocol != "mobilellm" && rc.eval.protocol != "leaderboard-v1")
    r.fail("eval.protocol", "expected \"mobilellm\" or \"leaderboard-v1\"");
  if (rc.eval.limit < 0) r.fail("eval.limit", "must be >= 0 (0 = all)");
  for (const auto& d : rc.profile.dtypes)
    if (d != "fp32" && d != "bf16") r.fail("profile.dtypes", "expected fp32 or bf16, got \"" + d + "\"");
}

// The [grid] as a list of points, the first axis varying slowest.
std::vector<std::vector<Assignment>> grid_points(const std::vector<GridAxis>& grid) {
  std::vector<std::vector<Assignment>> points = {{}};
  for (const auto& ax : grid) {
    std::vector<std::vector<Assignment>> next;
    for (const auto& p : points)
      for (const auto& v : ax.values) {
        auto q = p;
        q.push_back({ax.path, v, ax.where});
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

// "seed=1-scheme=none": each grid key's last part and its value ([a, b] -> a+b in a name).
std::string point_suffix(const std::vector<Assignment>& point) {
  std::vector<std::string> parts;
  for (const auto& a : point) {
    const std::string leaf = a.path.substr(a.path.rfind('.') + 1);
    const bool list = a.value.kind == Value::Kind::kStringList;
    parts.push_back(leaf + "=" + (list ? fmt::format("{}", fmt::join(a.value.list, "+")) : a.value.text()));
  }
  return fmt::format("{}", fmt::join(parts, "-"));
}

}  // namespace

void shrink_width(arch::ModelSpec& m, const Scale& s) {
  if (s.width != 1.0 || s.head_dim > 0) {
    const int64_t old_heads = m.n_heads;
    int64_t hd = m.head_dim();
    if (s.head_dim > 0) hd = std::min(hd, s.head_dim);
    else hd = std::max<int64_t>(2, round_to(double(hd) * s.width, 2));
    m.d_model = round_to(double(m.d_model) * s.width, hd);
    m.n_heads = m.d_model / hd;
    const double kv_target = double(m.n_kv_heads) * double(m.n_heads) / double(old_heads);
    int64_t kv = std::max<int64_t>(1, std::min<int64_t>(m.n_heads, int64_t(std::floor(kv_target + 1e-9))));
    while (m.n_heads % kv != 0) --kv;
    m.n_kv_heads = kv;
    m.ffn_dim = round_to(double(m.ffn_dim) * s.width, 8);
  }
}

void apply_scale_values(RunConfig& rc, const Scale& s) {
  const int64_t steps_before = rc.train.steps();
  for (const auto& a : s.set) assign(rc, a);
  // Warm-up keeps its share of training: 2000 of 73,242 paper steps stays ~2.7% of a CPU run.
  const int64_t steps_after = rc.train.steps();
  if (steps_before > 0 && steps_after != steps_before && rc.train.warmup_steps > 0) {
    bool warmup_set = false;
    for (const auto& a : s.set) warmup_set |= a.path == "train.warmup_steps";
    if (!warmup_set)
      rc.train.warmup_steps = std::max<int64_t>(
          1, std::llround(double(rc.train.warmup_steps) * double(steps_after) / double(steps_before)));
  }
}

void apply_scale(RunConfig& rc, const Scale& s) {
  shrink_width(rc.model, s);
  apply_scale_values(rc, s);
}

std::vector<PlannedRun> expand_sweep(const SweepFile& sweep, const ExpandOptions& opt) {
  std::vector<Assignment> sets;
  for (const auto& s : opt.sets) sets.push_back(config::parse_set(s));
  const Scale scale =
      opt.scale.empty()
          ? load_scale(sweep.scale, sweep.path, sweep.scale_where.empty() ? sweep.path : sweep.scale_where)
          : load_scale(opt.scale, sweep.path, "--scale " + opt.scale);

  std::vector<RunEntry> runs = sweep.runs;
  if (runs.empty()) runs.push_back({"", {}, sweep.path});
  std::vector<GridAxis> grid = sweep.grid;
  std::optional<GridAxis> seeds = sweep.seeds;
  if (!opt.seeds.empty()) {
    seeds = GridAxis{"train.seed", {}, "--seeds"};
    for (int64_t s : opt.seeds) seeds->values.push_back(Value::integer(s));
  }
  if (seeds) grid.push_back(*seeds);
  const auto points = grid_points(grid);

  std::vector<PlannedRun> out;
  std::set<std::string> names;
  for (const auto& run : runs) {
    for (const auto& point : points) {
      RunConfig rc;
      rc.sweep = sweep.name;
      std::string suffix = point_suffix(point);
      rc.name = run.name.empty() ? (suffix.empty() ? sweep.name : suffix)
                                 : (suffix.empty() ? run.name : run.name + "-" + suffix);
      rc.scale = scale.name;
      Resolver r(sweep.path, rc.name);

      // The preset: the last layer that names one wins, and it is applied before everything else.
      const Assignment* preset = nullptr;
      for (const std::vector<Assignment>* layer :
           std::initializer_list<const std::vector<Assignment>*>{&sweep.top, &run.set, &point, &sets})
        for (const auto& a : *layer)
          if (a.path == "model.preset") preset = &a;
      if (!preset)
        throw config_error(sweep.path, "model.preset",
                           "missing in run '" + rc.name + "' (add [model] preset = \"...\"; known: " +
                               arch::preset_names() + ")");
      if (preset->value.kind != Value::Kind::kString)
        throw config_error(preset->where, "model.preset", "expected a string, got " + preset->value.describe());
      try {
        rc.model = arch::preset_by_name(preset->value.s).make();
      } catch (const ConfigError& e) {
        throw config_error(preset->where, "model.preset", e.what());
      }
      rc.preset = preset->value.s;
      r.touched("model.preset", preset->where);
      r.touched("model.scheme", preset->where);  // the preset's scheme, until a layer sets one

      r.apply(rc, sweep.top);
      apply_scale_values(rc, scale);
      for (const auto& a : scale.set) r.touched(a.path, a.where);
      r.apply(rc, run.set);
      r.apply(rc, point);
      // The width rule shrinks the paper shape each run and grid point asks for (a depth ablation's
      // runs give their own widths); a --set shape is taken as given.
      shrink_width(rc.model, scale);
      r.apply(rc, sets);
      check_run(rc, r, sweep.path);

      if (!names.insert(rc.name).second)
        throw config_error(run.where, "run.name", "'" + rc.name + "' occurs twice after grid expansion");
      out.push_back({rc, run.name});
    }
  }
  // `--only NAME` takes a run's full name or a [[run]]'s (all its grid points): a grid point named
  // like another [[run]] would make `--only` select both (a Slurm script selects one run by name).
  if (!grid.empty())
    for (const auto& run : sweep.runs)
      if (names.count(run.name))
        throw config_error(run.where, "run.name",
                           "'" + run.name + "' is also the name of a grid point of another [[run]] (--only could not "
                           "tell them apart)");

  // Seed-major: every arm's seed 0 before any seed 1, so a sweep stopped early still has pairs.
  if (seeds) {
    const auto rank = [&](const PlannedRun& p) {
      for (size_t i = 0; i < seeds->values.size(); ++i)
        if (uint64_t(seeds->values[i].i) == p.config.train.seed) return i;
      return seeds->values.size();  // a --set train.seed overrode the list: keep the file's order
    };
    std::stable_sort(out.begin(), out.end(),
                     [&](const PlannedRun& a, const PlannedRun& b) { return rank(a) < rank(b); });
  }

  if (!opt.only.empty()) {
    std::vector<PlannedRun> kept;
    for (const auto& want : opt.only) {
      bool hit = false;
      for (const auto& p : out)
        if (p.config.name == want || p.base_name == want) hit = true;
      if (!hit) {
        std::vector<std::string> known;
        for (const auto& p : out) known.push_back(p.config.name);
        throw ConfigError(
            fmt::format("--only {}: no such run in {} (runs: {})", want, sweep.path, fmt::join(known, ", ")));
      }
    }
    for (const auto& p : out)
      for (const auto& want : opt.only)
        if (p.config.name == want || p.base_name == want) {
          kept.push_back(p);
          break;
        }
    out = std::move(kept);
  }
  return out;
}

}  // namespace sharelab::sweep
