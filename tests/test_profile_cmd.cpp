// `runner profile debug` end to end: exit code, printed table, and the rows it stored, read back
// through ResultsStore (one per dtype, with the environment recorded). Bad options exit 2.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "runner/store/results_store.h"

namespace fs = std::filesystem;

namespace {

const std::string kRunner = std::string(SHARELAB_BINARY_DIR) + "/runner";

// Runs a shell command; returns (exit status, stdout).
std::pair<int, std::string> sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("runner profile debug stores one row per dtype") {
  const fs::path dir = fs::temp_directory_path() / "sharelab_test_profile_cmd";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "p.db").string();
  const auto [rc, out] = sh(kRunner +
                            " profile debug --dtype fp32,bf16 --seq 32 --warmup 1 --repeats 3 --threads 1 "
                            "--work-dir " +
                            (dir / "work").string() + " --db " + db + " 2>/dev/null");
  REQUIRE(rc == 0);
  CHECK(out.find("debug") != std::string::npos);
  CHECK(out.find("stored 2 profile rows") != std::string::npos);

  sharelab::store::ResultsStore store(db);
  const auto rows = store.profiles("debug");
  REQUIRE(rows.size() == 2);
  for (const auto& r : rows) {
    CHECK((r.dtype == "fp32" || r.dtype == "bf16"));
    CHECK(r.batch == 1);
    CHECK(r.seq == 32);
    CHECK(r.threads == 1);
    CHECK(r.load_ms > 0);
    CHECK(r.init_ms > 0);
    CHECK(r.fwd_min_ms <= r.fwd_median_ms);
    CHECK(r.fwd_median_ms <= r.fwd_max_ms);
    CHECK(r.peak_mem_bytes > 0);
    CHECK(r.per_layer_ms_json.front() == '[');
    CHECK(std::count(r.per_layer_ms_json.begin(), r.per_layer_ms_json.end(), ',') == 3);  // 4 layers
    CHECK(r.versions_json.find("\"torch\"") != std::string::npos);
    CHECK(nlohmann::json::parse(r.versions_json).at("repeats") == 3);
    CHECK(r.device.find("cpu") == 0);
  }
  CHECK(fs::is_empty(dir / "work"));  // the load checkpoint is removed
  fs::remove_all(dir);
}

TEST_CASE("runner profile --decode-only times decoding alone and stores nothing") {
  const fs::path dir = fs::temp_directory_path() / "sharelab_test_profile_decode_only";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "p.db").string();
  const auto [rc, out] = sh(kRunner + " profile debug --dtype fp32,bf16 --decode 4 --prompt 8 --decode-only --repeats 1 "
                                      "--warmup 0 --threads 1 --work-dir " + (dir / "work").string() + " --db " + db +
                            " 2>/dev/null");
  REQUIRE(rc == 0);
  CHECK(out.find("batch-1 greedy decoding: prompt 8 tokens, then 4 tokens") != std::string::npos);
  CHECK(out.find("load ms") == std::string::npos);  // no load, forward or per-layer timing
  CHECK(out.find("stored") == std::string::npos);
  CHECK(!fs::exists(db));
  CHECK(!fs::exists(dir / "work"));
  CHECK(sh(kRunner + " profile debug --decode-only --db '' 2>/dev/null").first == 2);  // needs --decode N
  fs::remove_all(dir);
}

TEST_CASE("runner profile rejects bad arguments with exit 2") {
  CHECK(sh(kRunner + " profile no-such-preset --db '' 2>/dev/null").first == 2);
  CHECK(sh(kRunner + " profile debug --dtype fp16 --db '' 2>/dev/null").first == 2);
  CHECK(sh(kRunner + " profile debug --seq 4096 --db '' 2>/dev/null").first == 2);
}
