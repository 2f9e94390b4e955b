// Expanding a sweep into fully resolved RunConfigs. Precedence, lowest first:
//   registry preset < extends base(s) < sweep top level < scale < [[run]]/[[variant]]
//   < [grid] point < --set key=value
// The scale's width rule (shrink_width) runs on the spec as resolved through the [grid] point,
// before --set: a depth ablation's [[run]]s name paper widths, and the scale shrinks them all alike.
// Every run is validated here (types, preset, scheme, geometry, budget >= one optimizer step), so
// a bad sweep fails with one line before anything is trained.
#pragma once

#include <string>
#include <vector>

#include "runner/config/run_config.h"
#include "runner/sweep/sweep_file.h"

namespace sharelab::sweep {

using config::RunConfig;

extern const char* const kPrecedence;  // the line above, for --help and the plan

struct ExpandOptions {
  std::string scale;                // --scale NAME: replaces the file's `scale`
  std::vector<std::string> sets;    // --set key=value, in order
  std::vector<std::string> only;    // --only: run names (full, or the [[run]] name of grid points)
  std::vector<int64_t> seeds;       // --seeds: replaces the sweep's seed list
};

struct PlannedRun {
  RunConfig config;
  std::string base_name;  // the [[run]] name ("" without runs)
};

std::vector<PlannedRun> expand_sweep(const SweepFile& sweep, const ExpandOptions& opt);

// The scale's rule on one spec + recipe (the part of expansion tests hold to account):
//   d_model' = round(d_model x width / hd) x hd, at least hd, where hd = min(head_dim, preset's
//   head_dim) (hd = the preset's head_dim x width, rounded to even, if the scale gives none);
//   n_heads' = d_model' / hd (heads shrink, head_dim is kept); n_kv_heads' = the largest divisor
//   of n_heads' not above n_kv_heads x n_heads' / n_heads (MHA stays MHA, GQA keeps its ratio
//   where it divides); ffn_dim' = round(ffn_dim x width / 8) x 8, at least 8. Then the scale's
//   absolute values apply; warmup_steps keeps its fraction of the run's optimizer steps.
//   n_layers, scheme, repeats, unique_blocks and tie_embeddings never change.
void apply_scale(RunConfig& rc, const Scale& s);  // shrink_width, then apply_scale_values
void shrink_width(arch::ModelSpec& m, const Scale& s);
void apply_scale_values(RunConfig& rc, const Scale& s);

}  // namespace sharelab::sweep
