// ModelSpec: the flat description of one LLaMA-style model (geometry + sharing scheme), its
// validation, and a field table so every key can be set by name (`--set d_model=512`, sweep TOML).
// n_layers is always the *executed* depth; unique module counts are derived from the scheme.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/sharing.h"

namespace sharelab::arch {

struct ModelSpec {
  std::string name;            // preset name, or "custom"
  int64_t n_layers = 0;        // executed (virtual) layers
  int64_t d_model = 0;         // hidden size
  int64_t n_heads = 0;         // query heads
  int64_t n_kv_heads = 0;      // key/value heads (GQA when < n_heads)
  int64_t ffn_dim = 0;         // SwiGLU intermediate size
  int64_t vocab_size = 32000;  // LLaMA-2 SentencePiece vocabulary
  int64_t max_seq_len = 2048;
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;
  bool tie_embeddings = false;  // output head reuses the input embedding matrix
  std::string scheme = "none";  // see schemes(); `runner presets --schemes`
  int64_t repeats = 0;          // k for immediate / repeat-all-over / reverse
  int64_t unique_blocks = 0;    // M for sequence / cycle / cycle-rev
  double init_std = 0.02;       // N(0, init_std); output projections scaled by 1/sqrt(2 n_layers)

  int64_t head_dim() const { return d_model / n_heads; }

  // Throws ConfigError "<name>: <field> <value> <what is wrong>" on the first problem found.
  void validate() const;

  // The sharing implied by scheme + its argument (validates the scheme name and argument).
  SharingSpec sharing() const;

  // The index maps: slot -> unique attention/FFN/norm module.
  struct Layout {
    std::vector<int64_t> attn_of, ffn_of, attn_norm_of, ffn_norm_of;
    int64_t n_attn = 0, n_ffn = 0, n_attn_norm = 0, n_ffn_norm = 0;
  };
  Layout layout() const;
};

// --- fields by name ---------------------------------------------------------------------------
enum class FieldType { kInt, kFloat, kBool, kString };

struct FieldInfo {
  const char* key;
  FieldType type;
  const char* help;
};

const std::vector<FieldInfo>& spec_fields();
std::string spec_field_names();  // "n_layers, d_model, ..."

// Set one field from text ("512", "1e-5", "true", "shared-ffn"). Unknown key or unparsable value
// -> ConfigError naming the key, the value and what was expected.
void set_field(ModelSpec& spec, const std::string& key, const std::string& value);
std::string get_field(const ModelSpec& spec, const std::string& key);

// Apply "key=value" overrides in order.
void apply_overrides(ModelSpec& spec, const std::vector<std::string>& assignments);

// All fields as sorted "key = value" lines (canonical text, stable across runs).
std::string spec_to_text(const ModelSpec& spec);

}  // namespace sharelab::arch
