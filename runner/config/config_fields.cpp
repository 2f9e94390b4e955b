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
#include "runner/config/toml_value.h"

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

// A field's value read as its C++ type (overloads chosen by the member's type).
int64_t read_as(const Assignment& a, int64_t*) { return as_int(a); }
int read_as(const Assignment& a, int*) { return int(as_int(a)); }
uint64_t read_as(const Assignment& a, uint64_t*) {
  const int64_t v = as_int(a);
  if (v < 0) fail(a, "expected a non-negative integer, got " + a.value.describe());
  return uint64_t(v);
}
double read_as(const Assignment& a, double*) { return as_float(a); }
bool read_as(const Assignment& a, bool*) { return as_bool(a); }
std::string read_as(const Assignment& a, std::string*) { return as_string(a); }
std::vector<std::string> read_as(const Assignment& a, std::vector<std::string>*) { return as_list(a); }

// The field `sec.key`: member `m` of the RunConfig sub-struct `sub`.
template <class S, class T>
Field field(const char* sec, const char* key, S RunConfig::*sub, T S::*m) {
  return {sec, key, [=](RunConfig& rc, const Assignment& a) { rc.*sub.*m = read_as(a, static_cast<T*>(nullptr)); },
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
      field("train", "lr", tr, &T::lr),
      field("train", "min_lr", tr, &T::min_lr),
      field("train", "warmup_steps", tr, &T::warmup_steps),
      field("train", "beta1", tr, &T::beta1),
      field("train", "beta2", tr, &T::beta2),
      field("train", "adam_eps", tr, &T::adam_eps),
      field("train", "weight_decay", tr, &T::weight_decay),
      field("train", "grad_clip", tr, &T::grad_clip),
      field("train", "seq_len", tr, &T::seq_len),
      field("train", "global_batch_tokens", tr, &T::global_batch_tokens),
      field("train", "micro_batch", tr, &T::micro_batch),
      field("train", "tokens", tr, &T::tokens),
      field("train", "precision", tr, &T::precision),
      field("train", "seed", tr, &T::seed),
      field("train", "checkpoint_every_tokens", tr, &T::checkpoint_every_tokens),
      field("train", "val_every_tokens", tr, &T::val_every_tokens),
      field("train", "val_batches", tr, &T::val_batches),
      field("train", "log_every_steps", tr, &T::log_every_steps),
      field("train", "threads", tr, &T::threads),
      field("train", "device", tr, &T::device),
      field("train", "init_from", tr, &T::init_from),
      field("train", "skip_nonfinite", tr, &T::skip_nonfinite),
      field("data", "dir", da, &D::dir),
      field("data", "mix", da, &D::mix),
      field("data", "tokenizer", da, &D::tokenizer),
      field("eval", "tasks", ev, &E::tasks),
      field("eval", "limit", ev, &E::limit),
      field("eval", "protocol", ev, &E::protocol),
      field("eval", "tasks_dir", ev, &E::tasks_dir),
      field("eval", "batch", ev, &E::batch),
      field("profile", "enabled", pr, &P::enabled),
      field("profile", "batch", pr, &P::batch),
      field("profile", "seq", pr, &P::seq),
      field("profile", "warmup", pr, &P::warmup),
      field("profile", "repeats", pr, &P::repeats),
      field("profile", "dtypes", pr, &P::dtypes),
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
  if (!f) check_key(a.where, a.path);  // throws: names the known sections or keys
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
