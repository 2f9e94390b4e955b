// Validation and field-by-name access for ModelSpec.
#include "arch/model_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

#include "common/errors.h"

namespace sharelab::arch {

namespace {

[[noreturn]] void fail(const ModelSpec& s, const std::string& what) {
  throw ConfigError((s.name.empty() ? std::string("model") : s.name) + ": " + what);
}

std::string num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

SharingSpec ModelSpec::sharing() const {
  const SchemeInfo& info = scheme_by_name(scheme);
  int64_t arg = 0;
  if (info.arg == SchemeArg::kRepeats) {
    if (repeats < 1) fail(*this, "scheme '" + scheme + "' needs repeats >= 1 (got " + std::to_string(repeats) + ")");
    arg = repeats;
  } else if (info.arg == SchemeArg::kUniqueBlocks) {
    if (unique_blocks < 1)
      fail(*this, "scheme '" + scheme + "' needs unique_blocks >= 1 (got " + std::to_string(unique_blocks) + ")");
    arg = unique_blocks;
  }
  try {
    return info.make(n_layers, arg);
  } catch (const ConfigError& e) {
    fail(*this, e.what());
  }
}

void ModelSpec::validate() const {
  auto positive = [&](const char* key, int64_t v) {
    if (v <= 0) fail(*this, std::string(key) + " " + std::to_string(v) + " must be positive");
  };
  positive("n_layers", n_layers);
  positive("d_model", d_model);
  positive("n_heads", n_heads);
  positive("n_kv_heads", n_kv_heads);
  positive("ffn_dim", ffn_dim);
  positive("vocab_size", vocab_size);
  positive("max_seq_len", max_seq_len);
  if (d_model % n_heads != 0)
    fail(*this, "d_model " + std::to_string(d_model) + " is not divisible by n_heads " + std::to_string(n_heads));
  if (n_heads % n_kv_heads != 0)
    fail(*this, "n_heads " + std::to_string(n_heads) + " is not divisible by n_kv_heads " + std::to_string(n_kv_heads));
  if (head_dim() % 2 != 0)
    fail(*this, "head_dim " + std::to_string(head_dim()) + " (d_model / n_heads) must be even for rotary embeddings");
  if (!(rope_theta > 0)) fail(*this, "rope_theta " + num(rope_theta) + " must be positive");
  if (!(norm_eps > 0)) fail(*this, "norm_eps " + num(norm_eps) + " must be positive");
  if (!(init_std > 0)) fail(*this, "init_std " + num(init_std) + " must be positive");
  const SchemeInfo& info = scheme_by_name(scheme);
  if (info.arg != SchemeArg::kRepeats && repeats != 0)
    fail(*this, "repeats " + std::to_string(repeats) + " is set but scheme '" + scheme + "' takes no repeat factor");
  if (info.arg != SchemeArg::kUniqueBlocks && unique_blocks != 0)
    fail(*this, "unique_blocks " + std::to_string(unique_blocks) + " is set but scheme '" + scheme +
                    "' takes no unique block count");
  SharingSpec sh = sharing();
  for (const Schedule* s : {&sh.attn, &sh.ffn}) {
    const int64_t m = schedule_unique(*s, n_layers);
    if (m < 1 || m > n_layers || n_layers % m != 0)
      fail(*this, "unique_blocks " + std::to_string(m) + " must divide n_layers " + std::to_string(n_layers));
  }
}

ModelSpec::Layout ModelSpec::layout() const {
  SharingSpec sh = sharing();
  Layout l;
  l.attn_of = schedule_owners(sh.attn, n_layers);
  l.ffn_of = schedule_owners(sh.ffn, n_layers);
  l.n_attn = schedule_unique(sh.attn, n_layers);
  l.n_ffn = schedule_unique(sh.ffn, n_layers);
  if (sh.norms == NormOwner::kPerSlot) {
    l.attn_norm_of.resize(n_layers);
    for (int64_t i = 0; i < n_layers; ++i) l.attn_norm_of[i] = i;
    l.ffn_norm_of = l.attn_norm_of;
    l.n_attn_norm = l.n_ffn_norm = n_layers;
  } else {
    l.attn_norm_of = l.attn_of;
    l.ffn_norm_of = l.ffn_of;
    l.n_attn_norm = l.n_attn;
    l.n_ffn_norm = l.n_ffn;
  }
  return l;
}

// --- fields by name ---------------------------------------------------------------------------

namespace {

struct FieldAccess {
  FieldInfo info;
  int64_t ModelSpec::*i = nullptr;
  double ModelSpec::*f = nullptr;
  bool ModelSpec::*b = nullptr;
  std::string ModelSpec::*s = nullptr;
};

#define SL_INT(k, h) FieldAccess{{#k, FieldType::kInt, h}, &ModelSpec::k, nullptr, nullptr, nullptr}
#define SL_FLT(k, h) FieldAccess{{#k, FieldType::kFloat, h}, nullptr, &ModelSpec::k, nullptr, nullptr}
#define SL_BOOL(k, h) FieldAccess{{#k, FieldType::kBool, h}, nullptr, nullptr, &ModelSpec::k, nullptr}
#define SL_STR(k, h) FieldAccess{{#k, FieldType::kString, h}, nullptr, nullptr, nullptr, &ModelSpec::k}

const std::vector<FieldAccess>& access_table() {
  static const std::vector<FieldAccess> t = {
      SL_INT(n_layers, "executed (virtual) layers"),
      SL_INT(d_model, "hidden size"),
      SL_INT(n_heads, "query heads"),
      SL_INT(n_kv_heads, "key/value heads (GQA when < n_heads)"),
      SL_INT(ffn_dim, "SwiGLU intermediate size"),
      SL_INT(vocab_size, "vocabulary size"),
      SL_INT(max_seq_len, "longest sequence the model is built for"),
      SL_FLT(rope_theta, "rotary embedding base"),
      SL_FLT(norm_eps, "RMSNorm epsilon"),
      SL_BOOL(tie_embeddings, "output head reuses the input embedding"),
      SL_STR(scheme, "sharing scheme (runner presets --schemes)"),
      SL_INT(repeats, "repeat factor k (immediate, repeat-all-over, reverse)"),
      SL_INT(unique_blocks, "unique block count M (sequence, cycle, cycle-rev)"),
      SL_FLT(init_std, "std of the normal initialisation"),
  };
  return t;
}

#undef SL_INT
#undef SL_FLT
#undef SL_BOOL
#undef SL_STR

const FieldAccess& find_field(const std::string& key) {
  for (const auto& f : access_table())
    if (key == f.info.key) return f;
  throw ConfigError("unknown model key '" + key + "'; known: " + spec_field_names());
}

}  // namespace

const std::vector<FieldInfo>& spec_fields() {
  static const std::vector<FieldInfo> infos = [] {
    std::vector<FieldInfo> v;
    for (const auto& f : access_table()) v.push_back(f.info);
    return v;
  }();
  return infos;
}

std::string spec_field_names() {
  std::vector<std::string> keys;
  for (const auto& f : access_table()) keys.push_back(f.info.key);
  return fmt::format("{}", fmt::join(keys, ", "));
}

void set_field(ModelSpec& spec, const std::string& key, const std::string& value) {
  const FieldAccess& f = find_field(key);
  auto bad = [&](const char* expected) {
    throw ConfigError("model key '" + key + "': '" + value + "' is not " + expected);
  };
  if (f.i) {
    // Accept "2048", and exact integers written in float notation such as "1e3".
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(value.c_str(), &end, 10);
    if (end == value.c_str() || *end != '\0' || errno) {
      double d = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || d != std::floor(d) || std::fabs(d) > 9e15) bad("an integer");
      v = static_cast<long long>(d);
    }
    spec.*(f.i) = v;
  } else if (f.f) {
    char* end = nullptr;
    double d = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0' || !std::isfinite(d)) bad("a number");
    spec.*(f.f) = d;
  } else if (f.b) {
    if (value == "true" || value == "1") spec.*(f.b) = true;
    else if (value == "false" || value == "0") spec.*(f.b) = false;
    else bad("true or false");
  } else {
    if (value.empty()) bad("a non-empty string");
    spec.*(f.s) = value;
  }
}

std::string get_field(const ModelSpec& spec, const std::string& key) {
  const FieldAccess& f = find_field(key);
  if (f.i) return std::to_string(spec.*(f.i));
  if (f.f) return num(spec.*(f.f));
  if (f.b) return spec.*(f.b) ? "true" : "false";
  return spec.*(f.s);
}

void apply_overrides(ModelSpec& spec, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("--set '" + a + "': expected key=value (keys: " + spec_field_names() + ")");
    set_field(spec, a.substr(0, eq), a.substr(eq + 1));
  }
}

std::string spec_to_text(const ModelSpec& spec) {
  std::map<std::string, std::string> kv;
  for (const auto& f : access_table()) kv[f.info.key] = get_field(spec, f.info.key);
  std::string out;
  for (const auto& [k, v] : kv) out += k + " = " + v + "\n";
  return out;
}

}  // namespace sharelab::arch
