// Loading the database slice and finding rows in it.
#include "analysis/db_view.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

#include "common/errors.h"

namespace sharelab::analysis {

DbView load_view(store::ResultsStore& db, const std::string& sweep) {
  DbView v;
  v.path = db.path();
  v.sweep = sweep;
  for (auto& run : db.runs(sweep)) {
    RunData d;
    d.scalars = db.scalars(run.run_id);
    d.evals = db.evals(run.run_id);
    d.run = std::move(run);
    v.runs.push_back(std::move(d));
  }
  std::sort(v.runs.begin(), v.runs.end(), [](const RunData& a, const RunData& b) {
    return std::tie(a.run.sweep, a.run.name, a.run.run_id) < std::tie(b.run.sweep, b.run.name, b.run.run_id);
  });
  v.profiles = db.profiles();
  std::sort(v.profiles.begin(), v.profiles.end(), [](const store::ProfileRow& a, const store::ProfileRow& b) {
    return std::tie(a.preset, a.dtype, a.created_at, a.device) < std::tie(b.preset, b.dtype, b.created_at, b.device);
  });
  return v;
}

std::string arm_of(const RunData& r) {
  const std::string& n = r.run.name;
  const auto at = n.rfind("-seed=");
  if (at == std::string::npos || at + 6 == n.size()) return n;
  for (size_t i = at + 6; i < n.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(n[i]))) return n;
  return n.substr(0, at);
}

std::optional<int64_t> stored_seed(const RunData& r) {
  const auto j = nlohmann::json::parse(r.run.config_json, nullptr, false);  // discarded when not JSON
  if (j.is_object() && j.contains("train") && j["train"].is_object() && j["train"].contains("seed") &&
      j["train"]["seed"].is_number_integer())
    return j["train"]["seed"].get<int64_t>();
  return std::nullopt;
}

int64_t seed_of(const RunData& r) {
  if (auto s = stored_seed(r)) return *s;
  throw ConfigError("run " + r.run.run_id + " (" + r.run.name + "): its stored config has no integer train.seed");
}

std::vector<const RunData*> find_runs(const DbView& v, const std::string& match) {
  std::vector<const RunData*> cand;
  for (const auto& r : v.runs)
    if (r.run.status == "finished" && arm_of(r) == match) cand.push_back(&r);
  if (cand.empty()) {
    const RunData* latest = nullptr;
    for (const auto& r : v.runs)
      if (r.run.status == "finished" && r.run.preset == match &&
          (!latest || std::tie(r.run.finished_at, r.run.run_id) > std::tie(latest->run.finished_at, latest->run.run_id)))
        latest = &r;
    if (!latest) return {};
    for (const auto& r : v.runs)
      if (r.run.status == "finished" && r.run.preset == match && arm_of(r) == arm_of(*latest)) cand.push_back(&r);
  }
  std::map<int64_t, const RunData*> by_seed;  // the latest finish per seed, then the larger id
  for (const RunData* r : cand) {
    const RunData*& slot = by_seed[stored_seed(*r).value_or(0)];  // no stored seed: one run per arm
    if (!slot || std::tie(r->run.finished_at, r->run.run_id) > std::tie(slot->run.finished_at, slot->run.run_id))
      slot = r;
  }
  std::vector<const RunData*> out;
  for (const auto& [seed, r] : by_seed) out.push_back(r);
  return out;
}

std::string runs_provenance(const std::vector<const RunData*>& runs) {
  if (runs.size() == 1) return run_provenance(*runs.front());
  const RunData& r = *runs.front();
  std::vector<int64_t> seeds;
  for (const RunData* x : runs) seeds.push_back(stored_seed(*x).value_or(0));
  const auto tokens = scalar(r, "tokens");
  return fmt::format(
      "measured here: seeds {} of run {} of sweep {} (scale {}, {} tokens each, {}); mean and 95% t-interval over "
      "seeds",
      fmt::join(seeds, ", "), arm_of(r), r.run.sweep.empty() ? "-" : r.run.sweep, r.run.scale.empty() ? "-" : r.run.scale,
      tokens ? short_count(*tokens) : "?", r.run.device.empty() ? "device ?" : r.run.device);
}

std::optional<double> scalar(const RunData& r, const std::string& keys) {
  size_t start = 0;
  while (start <= keys.size()) {
    size_t end = keys.find('|', start);
    if (end == std::string::npos) end = keys.size();
    auto it = r.scalars.find(keys.substr(start, end - start));
    if (it != r.scalars.end()) return it->second;
    start = end + 1;
  }
  return std::nullopt;
}

std::string short_count(double n) {
  if (n >= 1e12) return fmt::format("{:.3g}T", n / 1e12);
  if (n >= 1e9) return fmt::format("{:.3g}B", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.3g}M", n / 1e6);
  if (n >= 1e3) return fmt::format("{:.3g}K", n / 1e3);
  return fmt::format("{:.0f}", n);
}

std::string run_provenance(const RunData& r) {
  const auto tokens = scalar(r, "tokens");
  return fmt::format("measured here: run {} of sweep {} (scale {}, {} tokens, {})", r.run.name,
                     r.run.sweep.empty() ? "-" : r.run.sweep, r.run.scale.empty() ? "-" : r.run.scale,
                     tokens ? short_count(*tokens) : "?", r.run.device.empty() ? "device ?" : r.run.device);
}

const store::ProfileRow* find_profile(const DbView& v, const std::string& preset, const std::string& dtype,
                                      bool with_decode) {
  const store::ProfileRow* best = nullptr;
  for (const auto& p : v.profiles)
    if (p.preset == preset && (dtype.empty() || p.dtype == dtype) && (!with_decode || p.decode_tokens > 0) &&
        (!best || p.created_at >= best->created_at))  // ISO 8601 UTC: text order is time order
      best = &p;
  return best;
}

}  // namespace sharelab::analysis
