// What a paper table is, read from experiments/<table>.table.toml: its columns (which measured, computed
// or projected value each one shows), its rows (which run / preset each one is), and the paper's
// own numbers, kept as the strings the paper prints.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sharelab::analysis {

// Column `value` grammar (a row's run is found by name or preset, see RowSpec::match):
//   eval:TASK[|TASK...]:METRIC   an evaluation score of the row's run       (measured)
//   scalar:KEY[|KEY...]          a scalar of the row's run                  (measured)
//   mean:ITEM,ITEM,...           mean of earlier columns (by label) or of eval:/scalar: expressions
//                                of this row's run                          (measured; missing if any is)
//   spec:unique_params|effective_params|n_layers|d_model                    (computed from the preset)
//   project:gpu_hours|days|state_gb                                         (projected by the cost model)
//   profile:load_ms|init_ms|fwd_median_ms|fwd_range|peak_mem_mib|setup      (measured by runner profile)
struct ColumnSpec {
  std::string label;
  std::string value;
  bool paper = true;  // the paper prints this column: show "(paper)" beside "(ours)"
  std::string format =
      "fixed";  // fixed | billions (0.54B) | count (124.6M, 1.26B) | thousands (2.20K) | days | gb | int | text
  int decimals = 2;
  double scale = 1.0;  // multiply before printing (accuracy 0.4242 -> 42.42)
  // project:* only
  std::string accelerator = "a100-80gb";
  double tokens = 0;  // budget of the projection
  int devices = 1;    // for `days`: wall time on this many devices
  int64_t seq = 2048;
  double mfu = 0;           // > 0: this utilisation; 0: calibrate from the DB, else kDefaultMfu
  double tokens_per_s = 0;  // > 0: utilisation implied by this per-device throughput instead
  bool diff = false;        // with a reference row: a companion column "LABEL Δ" (row - reference, by seed)
};

struct RowSpec {
  std::string label;
  std::string match;               // run name or preset in the DB ("" = label)
  std::string preset;              // for spec/project/profile values ("" = match)
  std::string dtype;               // for profile values
  std::vector<std::string> set;    // "key=value" overrides of the preset (spec/project values)
  std::vector<std::string> paper;  // one per column with paper = true, as printed; "" = not in the paper
};

// A claim of the paper that a sweep can test ([[claim]] beside the table it belongs to): B's
// metric against A's, paired by seed (analysis findings).
struct ClaimSpec {
  std::string id;                         // "table5-mobillama-vs-baseline1"
  std::string paper;                      // the claim in the paper's words, quoted
  std::string source;                     // where the paper says it: "MobiLlama Sec. 4.2, Table 5"
  std::string a, b;                       // arms: run name (without -seed=S) or preset
  std::string metric = "final_val_loss";  // as `analysis compare --metric`
  std::string expect;                     // "lower" / "higher": B's metric against A's;
                                          // "within": |B - A| <= margin
  double margin = 0;
  std::string note;  // how the paper's measure maps to ours (a proxy metric, the margin's origin)
  std::string where;  // FILE:LINE:COL of the claim, for messages
};

struct TableSpec {
  std::string path;  // the TOML file, for messages
  std::string id, title, source;
  int order = 0;  // position in `--table all`
  std::string first_column = "Model";
  std::vector<ColumnSpec> columns;
  std::vector<RowSpec> rows;
  std::vector<std::string> notes;
  std::string reference;          // a row label: columns with `diff` show each row minus this row
  std::vector<ClaimSpec> claims;
};

// Strict: unknown keys, wrong types and a paper list of the wrong length -> ConfigError
// "FILE:LINE:COL: section.key: ...".
TableSpec load_table_spec(const std::string& path);
// Every *.table.toml in `dir`, ordered by their `order` key then id; any other *.toml there is an
// error (a sweep file or a definition misnamed).
std::vector<TableSpec> load_table_specs(const std::string& dir);

}  // namespace sharelab::analysis
