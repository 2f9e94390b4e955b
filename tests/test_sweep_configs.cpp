// Every shipped sweep (configs/*.toml) expands and plans cleanly, at its own scale and under every
// shipped scale (litgpt's test_config_hub idea); the Table 1 sweeps hold the paper's setup.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "runner/sweep/plan.h"
#include "sweep_test_util.h"

using namespace sharelab::sweep;
using namespace sweep_test;

namespace {

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".toml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

const fs::path kConfigs = fs::path(SHARELAB_SOURCE_DIR) / "configs";

}  // namespace

TEST_CASE("every configs/*.toml dry-runs cleanly at its own scale and under every scale") {
  const auto sweeps = files_in(kConfigs);
  REQUIRE(sweeps.size() >= 6);
  std::vector<std::string> scales = {""};
  for (const auto& s : files_in(kConfigs / "scales")) scales.push_back(s.stem().string());
  for (const auto& f : sweeps) {
    for (const auto& scale : scales) {
      INFO(f.filename().string() << " --scale '" << scale << "'");
      ExpandOptions o;
      o.scale = scale;
      std::vector<PlannedRun> runs;
      CHECK_NOTHROW(runs = expand(f.string(), o));
      CHECK(!runs.empty());
      const auto plan = make_plan(runs, nullptr, 1);
      std::ostringstream out;
      print_plan(out, "x", scale, plan, 1);
      CHECK(out.str().find("projected") != std::string::npos);
      for (const auto& r : plan) {
        CHECK(r.status == "new");
        CHECK(r.steps >= 1);
        CHECK(r.projected_s > 0);
      }
    }
  }
}

TEST_CASE("table1.toml is the paper's experiment, cpu.toml the same comparison at the cpu scale") {
  const auto paper = expand((kConfigs / "table1.toml").string());
  const auto cpu = expand((kConfigs / "cpu.toml").string());
  REQUIRE(paper.size() == 5);
  REQUIRE(cpu.size() == 5);
  std::set<std::string> presets;
  for (size_t i = 0; i < 5; ++i) {
    const RunConfig& p = paper[i].config;
    const RunConfig& c = cpu[i].config;
    presets.insert(p.preset);
    CHECK(p.train.tokens == 120e9);
    CHECK(p.train.seq_len == 2048);
    CHECK(p.train.global_batch_tokens == 800 * 2048);
    CHECK(p.train.lr == 3e-4);
    CHECK(p.train.min_lr == 3e-5);
    CHECK(p.train.warmup_steps == 2000);
    CHECK(p.eval.protocol == "leaderboard-v1");
    CHECK(p.eval.tasks.size() == 4);
    CHECK(p.profile.enabled);
    CHECK(c.scale == "cpu");
    CHECK(c.preset == p.preset);
    CHECK(c.model.n_layers == p.model.n_layers);
    CHECK(c.model.scheme == p.model.scheme);
    CHECK(c.model.d_model * 8 == p.model.d_model);
    CHECK(c.train.device == "cpu");
    CHECK(c.eval.limit == 200);
  }
  CHECK(presets == std::set<std::string>{"baseline1", "baseline2", "baseline3", "large-base", "mobillama-0.5b"});
}
