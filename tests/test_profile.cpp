// profile_model on the debug preset: every latency present and ordered, per-layer times for every
// executed layer, the load checkpoint cleaned up, the environment recorded.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "common/errors.h"
#include "arch/registry.h"
#include "runner/profile/profiler.h"

using namespace sharelab;

TEST_CASE("profile_model measures load, init, forward and per-layer time") {
  const auto dir = std::filesystem::temp_directory_path() / "sharelab_test_profile";
  std::filesystem::remove_all(dir);
  profile::ProfileOptions o;
  o.seq = 16;
  o.warmup = 1;
  o.repeats = 3;
  o.threads = 1;
  o.work_dir = dir.string();
  for (const char* dtype : {"fp32", "bf16"}) {
    SUBCASE(dtype) {
      o.dtype = dtype;
      const auto spec = arch::resolve_preset("debug", {"scheme=shared-ffn"});
      const profile::ProfileResult r = profile::profile_model(spec, o);
      CHECK(r.dtype == dtype);
      CHECK(r.fwd_ms.size() == 3);
      CHECK(r.fwd_min_ms > 0);
      CHECK(r.fwd_min_ms <= r.fwd_median_ms);
      CHECK(r.fwd_median_ms <= r.fwd_max_ms);
      CHECK(r.load_ms > 0);
      CHECK(r.init_ms > 0);
      REQUIRE(r.per_layer_ms.size() == 4);  // executed layers, not unique FFNs
      for (double ms : r.per_layer_ms) CHECK(ms > 0);
      CHECK(r.peak_mem_bytes > 0);
      CHECK(r.checkpoint_bytes > 0);
      CHECK(r.threads == 1);
      CHECK(r.device.find("1 threads") != std::string::npos);
      CHECK(r.versions_json.find("\"torch\"") != std::string::npos);
      CHECK(r.versions_json.find("\"blas\"") != std::string::npos);
      CHECK(std::filesystem::is_empty(dir));  // the checkpoint is not left behind
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("profile_model rejects bad options before measuring") {
  const auto spec = arch::resolve_preset("debug");
  profile::ProfileOptions o;
  o.dtype = "fp16";
  CHECK_THROWS_AS(profile::profile_model(spec, o), ConfigError);
  o.dtype = "fp32";
  o.seq = 4096;  // debug's max_seq_len is 128
  CHECK_THROWS_AS(profile::profile_model(spec, o), ConfigError);
}

TEST_CASE("median and json helpers") {
  CHECK(profile::median({3, 1, 2}) == 2);
  CHECK(profile::median({4, 1, 3, 2}) == 2.5);
  CHECK(profile::json_array({1, 2.5}, 1) == "[1.0,2.5]");
  CHECK(profile::json_array({0.1234, 2.0006}) == "[0.123,2.001]");
  CHECK(profile::spec_hash(arch::resolve_preset("debug")) !=
        profile::spec_hash(arch::resolve_preset("debug", {"n_layers=2"})));
}

TEST_CASE("a profile row's versions JSON carries any string back unchanged") {
  profile::ProfileResult r;
  r.versions_json = profile::versions_json();
  r.peak_mem_kind = "tab\there, cr\r, \x01 and a \"quote\" \\";  // what a hand-written escape got wrong
  r.warmup = 2;
  r.repeats = 3;
  r.fwd_ms = {1.5, 2.25};
  const auto v = nlohmann::json::parse(profile::to_profile_row(r).versions_json);
  CHECK(v.at("peak_mem_kind").get<std::string>() == r.peak_mem_kind);
  CHECK(v.at("repeats") == 3);
  CHECK(v.at("fwd_ms") == nlohmann::json({1.5, 2.25}));
  CHECK(v.at("torch").is_string());
  CHECK(v.at("loadavg_1m").is_number());
}
