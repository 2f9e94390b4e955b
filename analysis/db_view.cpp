// Loading the database slice and finding rows in it.
#include "analysis/db_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

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

const RunData* find_run(const DbView& v, const std::string& match) {
  const RunData* best = nullptr;
  for (const auto& r : v.runs) {
    if (r.run.status != "finished" || (r.run.name != match && r.run.preset != match)) continue;
    // An exact name match beats a preset match; then the latest finish, then the larger id.
    auto key = [&](const RunData& x) { return std::make_tuple(x.run.name == match, x.run.finished_at, x.run.run_id); };
    if (!best || key(r) > key(*best)) best = &r;
  }
  return best;
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

const store::ProfileRow* find_profile(const DbView& v, const std::string& preset, const std::string& dtype) {
  const store::ProfileRow* best = nullptr;
  for (const auto& p : v.profiles)
    if (p.preset == preset && (dtype.empty() || p.dtype == dtype)) best = &p;  // sorted: the last is the latest
  return best;
}

}  // namespace sharelab::analysis
