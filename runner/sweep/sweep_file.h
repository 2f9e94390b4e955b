// Reading sweep TOML files and scales into lists of located assignments. Parsing is strict: an
// unknown section or key, a value of an unsupported type or a malformed grid throws ConfigError
// "FILE:LINE:COL: train.lrr: unknown key (known: ...)". Types are checked when the assignments are
// applied (expand.h), still before anything runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runner/config/value.h"

namespace sharelab::sweep {

using config::Assignment;
using config::Value;

// One [[run]] / [[variant]] table: its name and its overrides.
struct RunEntry {
  std::string name;
  std::vector<Assignment> set;
  std::string where;
};

// One [grid] key: a dotted path and its alternatives (the grid is their cartesian product).
struct GridAxis {
  std::string path;
  std::vector<Value> values;
  std::string where;
};

struct SweepFile {
  std::string path;                // as given
  std::vector<std::string> chain;  // extends chain: the most basic file first, this file last
  std::string name;                // [meta] name (default: file stem)
  std::string question;            // [meta] question
  std::string scale = "paper";     // `scale = "cpu"` at the top or in [meta] (inherited through extends)
  std::string scale_where;
  std::vector<Assignment> top;     // the bases' sections, then this file's (later wins)
  std::vector<RunEntry> runs;      // this file's runs, or else the nearest base's
  std::vector<GridAxis> grid;      // likewise
  // `seeds = [0, 1, 2]` in [train] or [grid]: every run once per seed, as a "train.seed" axis that
  // expand_sweep adds last and orders seed-major (each seed's runs finish before the next seed's).
  std::optional<GridAxis> seeds;
  bool seeds_in_grid = false;  // given in a [grid]: a later file's [grid] replaces them with the rest
};

// Reads FILE and its `[meta] extends` chain (paths relative to the file that names them).
// ConfigError also when runs x grid points x seeds exceed kMaxPlannedRuns.
SweepFile load_sweep(const std::string& path);
constexpr uint64_t kMaxPlannedRuns = 10000;

// A scale (configs/scales/NAME.toml): shrinks width by [scale] width, keeping depth and the
// sharing pattern, and sets absolute values for vocab, sequence, batch, budget and the rest.
struct Scale {
  std::string name = "paper";  // "paper" = the identity (no file)
  std::string path;
  std::string description;
  double width = 1.0;      // d_model and ffn_dim are multiplied by this
  int64_t head_dim = 0;    // heads shrink so head_dim = min(this, the preset's); 0 = keep heads
  std::vector<Assignment> set;
};

// NAME looked up as <sweep dir>/scales/NAME.toml, then configs/scales/NAME.toml under the working
// directory; a value ending in .toml is a path (relative to the sweep file, else to the working
// directory). "paper" is the identity. `where` locates the name, for messages.
Scale load_scale(const std::string& name, const std::string& sweep_path, const std::string& where);

}  // namespace sharelab::sweep
