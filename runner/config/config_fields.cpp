// Field tables for the [train], [data], [eval] and [profile] sections, the bridge to ModelSpec's
// own table for [model], and the JSON of every section.
#include "runner/config/config_fields.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <map>

#include "arch/model_spec.h"
#include "common/errors.h"
#include "common/toml_reader.h"

namespace sharelab::config {

namespace {

using Kind = Value::Kind;

[[noreturn]] void fail(const Assignment& a, const std::string& what) {
  throw config_error(a.where, a.path, what);
}

// --- typed reads of a Value (TOML types; an integral float is accepted where an integer is) ---

int64_t as_int(const Assignment& a) {
  const Value& v = a.value;
  if (v.kind == Kind::kInt) return v.i;
  if (v.kind == Kind::kFloat && v.f == std::floor(v.f) && std::fabs(v.f) < 9e15) return int64_t(v.f);
  fail(a, "expected an integer, got " + v.describe());
}

double as_float(const Assignment& a) {
  const Value& v = a.value;
  if (v.kind == Kind::kFloat) return v.f;
  if (v.kind == Kind::kInt) return double(v.i);
  fail(a, "expected a number, got " + v.describe());
}

bool as_bool(const Assignment& a) {
  if (a.value.kind != Kind::kBool) fail(a, "expected true or false, got " + a.value.describe());
  return a.value.b;
}

std::string as_string(const Assignment& a) {
  if (a.value.kind != Kind::kString) fail(a, "expected a string, got " + a.value.describe());
  return a.value.s;
}

std::vector<std::string> as_list(const Assignment& a) {
  if (a.value.kind != Kind::kStringList) fail(a, "expected a list of strings, got " + a.value.describe());
  return a.value.list;
}

// --- one table for the non-model sections ------------------------------------------------------

struct Field {
  const char* section;
  const char* key;
  std::function<void(RunConfig&, const Assignment&)> set;
  std::function<nlohmann::json(const RunConfig&)> json;
};

// Member pointers into RunConfig's sub-structs, one helper per C++ type.
template <class S, class T>
using Member = T S::*;

template <class S>
Field int_f(const char* sec, const char* key, S RunConfig::*sub, int64_t S::*m) {
  return {sec, key, [=](RunConfig& rc, const Assignment& a) { rc.*sub.*m = as_int(a); },
          [=](const RunConfig& rc) { return nlohmann::json(rc.*sub.*m); }};
}
template <class S>
Field nonneg_f(const char* sec, const char* key, S RunConfig::*sub, uint64_t S::*m) {
  return {sec, key,
          [=](RunConfig& rc, const Assignment& a) {
            const int64_t v = as_int(a);
            if (v < 0) fail(a, "expected a non-negative integer, got " + a.value.describe());
            rc.*sub.*m = uint64_t(v);
          },
          [=](const RunConfig& rc) { return nlohmann::json(rc.*sub.*m); }};
}
template <class S>
Field small_int_f(const char* sec, const char* key, S RunConfig::*sub, int S::*m) {
  return {sec, key, [=](RunConfig& rc, const Assignment& a) { rc.*sub.*m = int(as_int(a)); },
          [=](const RunConfig& rc) { return nlohmann::json(rc.*sub.*m); }};
}
template <class S>
Field float_f(const char* sec, const char* key, S RunConfig::*sub, double S::*m) {
  return {sec, key, [=](RunConfig& rc, const Assignment& a) { rc.*sub.*m = as_float(a); },
          [=](const RunConfig& rc) { return nlohmann::json(rc.*sub.*m); }};
}
template <class S>
Field bool_f(const char* sec, const char* key, S RunConfig::*sub, bool S::*m) {
  return {sec, key, [=](RunConfig& rc, const Assignment& a) { rc.*sub.*m = as_bool(a); },
          [=](const RunConfig& rc) { return nlohmann::json(rc.*sub.*m); }};
}
template <class S>
Field str_f(const char* sec, const char* key, S RunConfig::*sub, std::string S::*m) {
  return {sec, key, [=](RunConfig& rc, const Assignment& a) { rc.*sub.*m = as_string(a); },
          [=](const RunConfig& rc) { return nlohmann::json(rc.*sub.*m); }};
}
template <class S>
Field list_f(const char* sec, const char* key, S RunConfig::*sub, std::vector<std::string> S::*m) {
  return {sec, key, [=](RunConfig& rc, const Assignment& a) { rc.*sub.*m = as_list(a); },
          [=](const RunConfig& rc) { return nlohmann::json(rc.*sub.*m); }};
}

const std::vector<Field>& fields() {
  using T = TrainConfig;
  using D = DataConfig;
  using E = EvalConfig;
  using P = ProfileConfig;
  constexpr auto tr = &RunConfig::train;
  constexpr auto da = &RunConfig::data;
  constexpr auto ev = &RunConfig::eval;
  constexpr auto pr = &RunConfig::profile;
  static const std::vector<Field> t = {
      float_f("train", "lr", tr, &T::lr),
      float_f("train", "min_lr", tr, &T::min_lr),
      int_f("train", "warmup_steps", tr, &T::warmup_steps),
      float_f("train", "beta1", tr, &T::beta1),
      float_f("train", "beta2", tr, &T::beta2),
      float_f("train", "adam_eps", tr, &T::adam_eps),
      float_f("train", "weight_decay", tr, &T::weight_decay),
      float_f("train", "grad_clip", tr, &T::grad_clip),
      int_f("train", "seq_len", tr, &T::seq_len),
      int_f("train", "global_batch_tokens", tr, &T::global_batch_tokens),
      int_f("train", "micro_batch", tr, &T::micro_batch),
      float_f("train", "tokens", tr, &T::tokens),
      str_f("train", "precision", tr, &T::precision),
      nonneg_f("train", "seed", tr, &T::seed),
      float_f("train", "checkpoint_every_tokens", tr, &T::checkpoint_every_tokens),
      float_f("train", "val_every_tokens", tr, &T::val_every_tokens),
      int_f("train", "val_batches", tr, &T::val_batches),
      int_f("train", "log_every_steps", tr, &T::log_every_steps),
      small_int_f("train", "threads", tr, &T::threads),
      str_f("train", "device", tr, &T::device),
      str_f("data", "dir", da, &D::dir),
      str_f("data", "mix", da, &D::mix),
      str_f("data", "tokenizer", da, &D::tokenizer),
      list_f("eval", "tasks", ev, &E::tasks),
      int_f("eval", "limit", ev, &E::limit),
      str_f("eval", "protocol", ev, &E::protocol),
      str_f("eval", "tasks_dir", ev, &E::tasks_dir),
      int_f("eval", "batch", ev, &E::batch),
      bool_f("profile", "enabled", pr, &P::enabled),
      int_f("profile", "batch", pr, &P::batch),
      int_f("profile", "seq", pr, &P::seq),
      int_f("profile", "warmup", pr, &P::warmup),
      int_f("profile", "repeats", pr, &P::repeats),
      list_f("profile", "dtypes", pr, &P::dtypes),
  };
  return t;
}

const Field* find(const std::string& section, const std::string& key) {
  for (const auto& f : fields())
    if (section == f.section && key == f.key) return &f;
  return nullptr;
}

// Exact values of ModelSpec's float fields (get_field prints 6 digits: not enough for a hash).
const std::map<std::string, double arch::ModelSpec::*>& spec_floats() {
  static const std::map<std::string, double arch::ModelSpec::*> m = {
      {"rope_theta", &arch::ModelSpec::rope_theta},
      {"norm_eps", &arch::ModelSpec::norm_eps},
      {"init_std", &arch::ModelSpec::init_std}};
  return m;
}

const arch::FieldInfo* spec_field(const std::string& key) {
  for (const auto& f : arch::spec_fields())
    if (key == f.key) return &f;
  return nullptr;
}

std::pair<std::string, std::string> split_path(const std::string& path) {
  auto dot = path.find('.');
  if (dot == std::string::npos) return {"", path};
  return {path.substr(0, dot), path.substr(dot + 1)};
}

}  // namespace

const std::vector<std::string>& config_sections() {
  static const std::vector<std::string> s = {"model", "train", "data", "eval", "profile"};
  return s;
}

std::string section_keys(const std::string& section) {
  std::vector<std::string> keys;
  if (section == "model") {
    keys.push_back("preset");
    for (const auto& f : arch::spec_fields()) keys.push_back(f.key);
  }
  for (const auto& f : fields())
    if (section == f.section) keys.push_back(f.key);
  return fmt::format("{}", fmt::join(keys, ", "));
}

bool is_known_key(const std::string& path) {
  auto [sec, key] = split_path(path);
  if (sec == "model") return key == "preset" || spec_field(key) != nullptr;
  return find(sec, key) != nullptr;
}

void assign(RunConfig& rc, const Assignment& a) {
  auto [sec, key] = split_path(a.path);
  if (sec == "model") {
    if (key == "preset") fail(a, "the preset is chosen before other keys apply (internal: not assignable)");
    const arch::FieldInfo* f = spec_field(key);
    if (!f) fail(a, "unknown key (known: " + section_keys("model") + ")");
    std::string text;
    switch (f->type) {
      case arch::FieldType::kInt: text = std::to_string(as_int(a)); break;
      case arch::FieldType::kFloat: {
        auto it = spec_floats().find(key);
        if (it != spec_floats().end()) {  // exact, not through text
          rc.model.*(it->second) = as_float(a);
          return;
        }
        text = fmt::format("{}", as_float(a));  // shortest text that reads back exactly
        break;
      }
      case arch::FieldType::kBool: text = as_bool(a) ? "true" : "false"; break;
      case arch::FieldType::kString: text = as_string(a); break;
    }
    try {
      arch::set_field(rc.model, key, text);
    } catch (const ConfigError& e) {
      fail(a, e.what());
    }
    return;
  }
  const Field* f = find(sec, key);
  if (!f) {
    bool known_section = false;
    for (const auto& s : config_sections()) known_section |= s == sec;
    if (!known_section)
      fail(a, fmt::format("unknown section '{}' (known: {})", sec, fmt::join(config_sections(), ", ")));
    fail(a, "unknown key (known: " + section_keys(sec) + ")");
  }
  f->set(rc, a);
}

nlohmann::json section_json(const RunConfig& rc, const std::string& section) {
  nlohmann::json j = nlohmann::json::object();
  if (section == "model") {
    for (const auto& f : arch::spec_fields()) {
      auto it = spec_floats().find(f.key);
      const std::string v = arch::get_field(rc.model, f.key);
      if (it != spec_floats().end()) j[f.key] = rc.model.*(it->second);
      else if (f.type == arch::FieldType::kString) j[f.key] = v;
      else j[f.key] = nlohmann::json::parse(v);  // integers and true/false are JSON as printed
    }
  } else {
    for (const auto& f : fields())
      if (section == f.section) j[f.key] = f.json(rc);
  }
  return j;
}

}  // namespace sharelab::config
