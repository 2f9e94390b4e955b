// Sweep loading and expansion: run x grid counts, precedence of every layer, the extends chain,
// --set typing, --only, the run identity, and each tests/bad_configs/*.toml's one-line error.
#include <doctest/doctest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "runner/config/config_fields.h"
#include "runner/config/toml_value.h"
#include "sweep_test_util.h"

using namespace sharelab::sweep;
namespace config = sharelab::config;
using namespace sweep_test;

namespace {

const char* kBase = R"(
[meta]
name = "base"
[model]
preset = "debug"
d_model = 128
[train]
lr = 1e-3
seed = 1
seq_len = 64
micro_batch = 2
global_batch_tokens = 256
tokens = 2560
warmup_steps = 3
[[run]]
name = "inherited"
)";

}  // namespace

TEST_CASE("expansion: runs x grid points, names, counts") {
  auto d = scratch("expand");
  auto f = write(d / "s.toml", std::string(kBase) + R"(
[[run]]
name = "second"
train.lr = 2e-3
[grid]
"model.scheme" = ["none", "shared-ffn", "shared-block"]
train.seed = [0, 1]
)");
  auto runs = expand(f);
  REQUIRE(runs.size() == 2 * 3 * 2);
  CHECK(runs[0].config.name == "inherited-scheme=none-seed=0");
  CHECK(runs[1].config.name == "inherited-scheme=shared-ffn-seed=0");  // seed-major: every seed 0 first
  CHECK(runs[6].config.name == "inherited-scheme=none-seed=1");
  CHECK(runs[11].config.name == "second-scheme=shared-block-seed=1");
  CHECK(runs[11].config.train.lr == 2e-3);
  CHECK(runs[11].config.model.scheme == "shared-block");
  CHECK(runs[11].config.train.seed == 1);
  CHECK(runs[0].config.sweep == "base");
  CHECK(runs[0].base_name == "inherited");
  // All run ids differ; the ids are stable 16-hex-digit hashes.
  std::vector<std::string> ids;
  for (const auto& r : runs) ids.push_back(r.config.run_id());
  std::sort(ids.begin(), ids.end());
  CHECK(std::unique(ids.begin(), ids.end()) == ids.end());
  CHECK(ids[0].size() == 16);

  SUBCASE("--only selects a whole [[run]] or one point") {
    ExpandOptions o;
    o.only = {"second", "inherited-scheme=none-seed=0"};
    auto some = expand(f, o);
    CHECK(some.size() == 6 + 1);
    o.only = {"nope"};
    CHECK(error_of(f, o).find("--only nope: no such run") == 0);
  }
}

TEST_CASE("seeds: in [train], in [grid] or --seeds, runs named NAME-seed=S, seed-major") {
  auto d = scratch("seeds");
  auto f = write(d / "s.toml", std::string(kBase).replace(std::string(kBase).find("seed = 1"), 8, "seeds = [3, 0, 1]") +
                              "[[run]]\nname = \"other\"\nmodel.scheme = \"shared-ffn\"\n");
  auto runs = expand(f);
  REQUIRE(runs.size() == 6);
  std::vector<std::string> names;
  for (const auto& r : runs) names.push_back(r.config.name);
  CHECK(names == std::vector<std::string>{"inherited-seed=3", "other-seed=3", "inherited-seed=0", "other-seed=0",
                                          "inherited-seed=1", "other-seed=1"});
  CHECK(runs[2].config.train.seed == 0);
  CHECK(runs[2].config.run_id() != runs[0].config.run_id());
  CHECK(runs[2].base_name == "inherited");

  ExpandOptions o;
  o.seeds = {7, 8};
  runs = expand(f, o);  // --seeds replaces the file's list
  REQUIRE(runs.size() == 4);
  CHECK(runs[3].config.name == "other-seed=8");
  CHECK(runs[3].config.train.seed == 8);
  o.seeds = {};
  o.only = {"other"};  // a [[run]] name selects all its seeds
  CHECK(expand(f, o).size() == 3);

  // [grid] seeds = [...] is the same axis, after the grid's own (names end in -seed=S).
  auto g = write(d / "g.toml", std::string(kBase) + "[grid]\nseeds = [0, 1]\n\"model.scheme\" = [\"none\", \"shared-ffn\"]\n");
  runs = expand(g);
  REQUIRE(runs.size() == 4);
  CHECK(runs[0].config.name == "inherited-scheme=none-seed=0");
  CHECK(runs[1].config.name == "inherited-scheme=shared-ffn-seed=0");

  // A child's [grid] replaces the base's grid seeds; seeds in [train] are inherited.
  auto c = write(d / "c.toml", "[meta]\nextends = \"g.toml\"\n[grid]\n\"model.scheme\" = [\"none\"]\n");
  CHECK(expand(c).size() == 1);
  auto c2 = write(d / "c2.toml", "[meta]\nextends = \"s.toml\"\n[grid]\n\"model.scheme\" = [\"none\"]\n");
  CHECK(expand(c2).size() == 6);
}

TEST_CASE("a sweep without runs or grid is one run named after the sweep") {
  auto d = scratch("single");
  auto f = write(d / "one.toml", "[model]\npreset = \"debug\"\n[train]\nseq_len = 64\nmicro_batch = 1\n"
                                 "global_batch_tokens = 64\ntokens = 640\n");
  auto runs = expand(f);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].config.name == "one");  // the file stem: no [meta] name
  CHECK(runs[0].config.preset == "debug");
  CHECK(runs[0].config.scale == "paper");
  CHECK(runs[0].config.train.steps() == 10);
}

TEST_CASE("precedence: preset < extends < top level < scale < run < grid < --set") {
  auto d = scratch("precedence");
  write(d / "base.toml", kBase);
  write(d / "scales" / "tiny.toml", R"(
[model]
max_seq_len = 32
[train]
seq_len = 32
global_batch_tokens = 128
tokens = 1280
lr = 5e-3
)");
  auto f = write(d / "child.toml", R"(
[meta]
name = "child"
extends = "base.toml"
scale = "tiny"
[train]
lr = 4e-3          # overrides the base
beta2 = 0.99       # only here
[[run]]
name = "r"
train.lr = 6e-3    # overrides the scale
train.seed = 7
[grid]
"train.seed" = [8]
)");
  ExpandOptions o;
  auto runs = expand(f, o);
  REQUIRE(runs.size() == 1);
  const RunConfig& rc = runs[0].config;
  CHECK(rc.sweep == "child");
  CHECK(rc.model.d_model == 128);           // base over the preset's 64
  CHECK(rc.model.n_layers == 4);            // the preset's
  CHECK(rc.train.beta2 == 0.99);            // top level over the default
  CHECK(rc.train.seq_len == 32);            // scale over the base
  CHECK(rc.train.lr == 6e-3);               // run over scale over top level over base
  CHECK(rc.train.seed == 8);                // grid over run
  CHECK(rc.scale == "tiny");
  // Warm-up keeps its share of the steps: 3 of 10 steps before the scale, 10 steps after.
  CHECK(rc.train.warmup_steps == 3);

  o.sets = {"train.seed=9", "train.lr=7e-3", "model.scheme=shared-ffn"};
  const RunConfig set = expand(f, o)[0].config;
  CHECK(set.train.seed == 9);   // --set over grid
  CHECK(set.train.lr == 7e-3);
  CHECK(set.model.scheme == "shared-ffn");
  CHECK(set.run_id() != rc.run_id());

  o.sets = {"model.preset=baseline1"};  // the preset is chosen first whatever layer names it
  o.scale = "paper";
  const RunConfig p = expand(f, o)[0].config;
  CHECK(p.preset == "baseline1");
  CHECK(p.model.n_layers == 22);
  CHECK(p.model.d_model == 128);  // the base's d_model still applies on top of the new preset
  CHECK(p.scale == "paper");
  CHECK(p.train.seq_len == 64);   // --scale paper replaced the file's `scale`
}

TEST_CASE("extends: a chain of bases, runs and grid inherited unless redefined, cycles rejected") {
  auto d = scratch("extends");
  write(d / "a.toml", "[model]\npreset = \"debug\"\nffn_dim = 128\n[train]\nseq_len = 64\nmicro_batch = 1\n"
                      "global_batch_tokens = 64\ntokens = 640\n[grid]\n\"train.seed\" = [1, 2]\n");
  write(d / "sub" / "b.toml", "[meta]\nextends = \"../a.toml\"\n[model]\nffn_dim = 192\nd_model = 96\n");
  auto c = write(d / "sub" / "c.toml", "[meta]\nname = \"c\"\nextends = \"b.toml\"\n[model]\nd_model = 32\n");
  auto runs = expand(c);
  REQUIRE(runs.size() == 2);  // the grid from a.toml
  CHECK(runs[0].config.model.ffn_dim == 192);
  CHECK(runs[0].config.model.d_model == 32);
  CHECK(runs[0].config.sweep == "c");
  CHECK(load_sweep(c).chain.size() == 3);

  auto e = write(d / "sub" / "e.toml", "[meta]\nextends = \"c.toml\"\n[grid]\n\"train.seed\" = [5]\n");
  CHECK(expand(e).size() == 1);  // a new [grid] replaces the inherited one

  write(d / "x.toml", "[meta]\nextends = \"y.toml\"\n");
  auto y = write(d / "y.toml", "[meta]\nextends = \"x.toml\"\n");
  CHECK(error_of(y).find("extends cycle") != std::string::npos);
}

TEST_CASE("--set values are TOML-typed, bare words are strings, type errors name the flag") {
  Assignment a = config::parse_set("train.lr=3e-4");
  CHECK(a.value.kind == Value::Kind::kFloat);
  CHECK(a.value.f == 3e-4);
  CHECK(config::parse_set("train.seed=3").value.kind == Value::Kind::kInt);
  CHECK(config::parse_set("profile.enabled=true").value.b);
  CHECK(config::parse_set("eval.tasks=[\"mmlu\", \"piqa\"]").value.list.size() == 2);
  CHECK(config::parse_set("model.scheme=shared-ffn").value.s == "shared-ffn");
  CHECK(config::parse_set("model.scheme=\"a b\"").value.s == "a b");
  CHECK_THROWS_WITH_AS(config::parse_set("train.lrr=1"), doctest::Contains("--set train.lrr=1: train.lrr: unknown key"),
                       sharelab::ConfigError);
  CHECK_THROWS_WITH_AS(config::parse_set("eval.tasks=[1]"),
                       "--set eval.tasks=[1]: eval.tasks: expected a list of strings, got integer 1 in it",
                       sharelab::ConfigError);
  CHECK_THROWS_AS(config::parse_set("nonsense"), sharelab::ConfigError);

  RunConfig rc;
  CHECK_THROWS_WITH_AS(assign(rc, config::parse_set("train.seq_len=abc")),
                       "--set train.seq_len=abc: train.seq_len: expected an integer, got string \"abc\"",
                       sharelab::ConfigError);
  assign(rc, config::parse_set("train.global_batch_tokens=2e5"));  // an integral float is an integer
  CHECK(rc.train.global_batch_tokens == 200000);
  CHECK_THROWS_AS(assign(rc, config::parse_set("train.seed=-1")), sharelab::ConfigError);
}

TEST_CASE("canonical JSON: sorted, exact, every section, the run id follows it") {
  RunConfig a;
  a.model = sharelab::arch::ModelSpec{};
  a.name = "x";
  const std::string j = a.canonical_json();
  CHECK(j.find("{\"data\":{") == 0);
  {
    // Floats survive the canonical JSON bit for bit (the run id hashes that text): a JSON reader
    // gets back the very double, including ones that need all 17 digits.
    RunConfig c = a;
    c.train.lr = 0.1 + 0.2;  // 0.30000000000000004, not 0.3
    c.model.norm_eps = 1e-5 / 3;
    const auto back = nlohmann::json::parse(c.canonical_json());
    CHECK(back.at("train").at("lr").get<double>() == c.train.lr);
    CHECK(back.at("model").at("norm_eps").get<double>() == c.model.norm_eps);
    CHECK(nlohmann::json::parse(j).at("train").at("lr").get<double>() == a.train.lr);
  }
  CHECK(j.find("\"tasks\":[]") != std::string::npos);
  CHECK(j.find("\"dtypes\":[\"fp32\",\"bf16\"]") != std::string::npos);
  const std::string id = a.run_id();
  RunConfig b = a;
  CHECK(b.run_id() == id);
  b.train.lr = 3.0000000001e-4;  // a change below 6 digits still changes the identity
  CHECK(b.run_id() != id);
  b = a;
  b.model.norm_eps = 1.00000001e-5;
  CHECK(b.run_id() != id);
  b.name = "a\"b\\c\n\t\r\x01";  // every kind of character a JSON string must escape
  CHECK(nlohmann::json::parse(b.canonical_json()).at("name") == b.name);
}

TEST_CASE("every tests/bad_configs/*.toml fails with its expected one-line message") {
  const fs::path dir = fs::path(SHARELAB_SOURCE_DIR) / "tests" / "bad_configs";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".toml") continue;
    std::ifstream in(e.path());
    std::string first;
    std::getline(in, first);
    INFO(e.path().string() << " must open with '# expect: <message>'");
    REQUIRE(first.rfind("# expect: ", 0) == 0);
    const std::string expected = first.substr(10);
    const std::string msg = error_of(e.path().string());
    INFO(e.path().filename().string() << ": " << msg);
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.find(expected) != std::string::npos);
    CHECK(msg.rfind(dir.string(), 0) == 0);  // names the sweep file (or the scale it loads)
    ++n;
  }
  CHECK(n >= 10);
}
