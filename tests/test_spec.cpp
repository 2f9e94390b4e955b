// ModelSpec validation messages, field access by name, and registry lookups.
#include <doctest/doctest.h>

#include <cctype>
#include <set>

#include "common/errors.h"
#include "arch/registry.h"

using namespace sharelab::arch;
using sharelab::ConfigError;

TEST_CASE("mobillama-0.8b-paper fails validation unless heads are overridden") {
  CHECK_THROWS_WITH_AS(resolve_preset("mobillama-0.8b-paper"),
                       "mobillama-0.8b-paper: d_model 2532 is not divisible by n_heads 32", ConfigError);
  // 2532 = 12 x 211: 12 heads of 211 would be odd (RoPE needs even head_dim); 6 heads of 422 works.
  CHECK_THROWS_WITH_AS(resolve_preset("mobillama-0.8b-paper", {"n_heads=12", "n_kv_heads=12"}),
                       "mobillama-0.8b-paper: head_dim 211 (d_model / n_heads) must be even for rotary embeddings",
                       ConfigError);
  ModelSpec s = resolve_preset("mobillama-0.8b-paper", {"n_heads=6", "n_kv_heads=6"});
  CHECK(s.head_dim() == 422);
}

TEST_CASE("geometry errors name the field and both values") {
  CHECK_THROWS_WITH_AS(resolve_preset("mobilellm-125m", {"n_kv_heads=2"}),
                       "mobilellm-125m: n_heads 9 is not divisible by n_kv_heads 2", ConfigError);
  CHECK_THROWS_WITH_AS(resolve_preset("debug", {"n_layers=0"}), "debug: n_layers 0 must be positive", ConfigError);
  CHECK_THROWS_WITH_AS(resolve_preset("debug", {"norm_eps=-1"}), "debug: norm_eps -1 must be positive", ConfigError);
}

TEST_CASE("unknown names list the valid ones") {
  CHECK_THROWS_WITH_AS(resolve_preset("mobilama-0.5b"), ("unknown preset 'mobilama-0.5b'; known: " + preset_names()).c_str(),
                       ConfigError);
  CHECK_THROWS_WITH_AS(resolve_preset("debug", {"d_modle=3"}),
                       ("unknown model key 'd_modle'; known: " + spec_field_names()).c_str(), ConfigError);
  CHECK_THROWS_WITH_AS(resolve_preset("debug", {"d_model=big"}), "model key 'd_model': 'big' is not an integer",
                       ConfigError);
  CHECK_THROWS_WITH_AS(resolve_preset("debug", {"tie_embeddings=maybe"}),
                       "model key 'tie_embeddings': 'maybe' is not true or false", ConfigError);
  CHECK_THROWS_WITH_AS(resolve_preset("debug", {"d_model"}), doctest::Contains("expected key=value"), ConfigError);
}

TEST_CASE("fields round-trip through text") {
  ModelSpec s = resolve_preset("debug", {"d_model=128", "rope_theta=500000", "tie_embeddings=true", "scheme=cycle",
                                         "unique_blocks=2", "max_seq_len=1e3"});
  CHECK(s.d_model == 128);
  CHECK(s.rope_theta == 500000.0);
  CHECK(s.tie_embeddings);
  CHECK(s.max_seq_len == 1000);
  CHECK(get_field(s, "scheme") == "cycle");
  ModelSpec t = preset_by_name("debug").make();
  for (const auto& f : spec_fields()) set_field(t, f.key, get_field(s, f.key));
  CHECK(spec_to_text(t) == spec_to_text(s));
}

TEST_CASE("registry names are unique and lowercase-hyphen") {
  std::set<std::string> names;
  for (const auto& p : presets()) {
    CHECK(names.insert(p.name).second);
    for (char c : std::string(p.name)) CHECK((std::islower(c) || std::isdigit(c) || c == '-' || c == '.'));
    CHECK(std::string(p.source).size() > 0);
  }
  std::set<std::string> schemes_seen;
  for (const auto& s : schemes()) CHECK(schemes_seen.insert(s.name).second);
}
