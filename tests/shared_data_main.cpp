// The doctest main of tests that read ../shared/data (see shared_data.h). doctest has no way to
// report a skipped test to ctest, so the check happens here, before doctest runs: no folder ->
// exit 77 (ctest: skipped); a folder lacking a needed file -> exit 1 (a broken copy is not
// silently skipped). Listing and help calls pass through: doctest_discover_tests lists the test
// cases at build time, with or without the data.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include "shared_data.h"

namespace {

// doctest's options that run no test: "-ltc", "--list-test-cases", "--dt-ltc=...", "-h", ...
bool runs_no_test(int argc, char** argv) {
  static const std::set<std::string> k = {"ltc", "list-test-cases", "lts", "list-test-suites", "lr", "list-reporters",
                                          "c", "count", "h", "help", "?", "v", "version"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    a.erase(0, a.find_first_not_of('-'));
    if (a.rfind("dt-", 0) == 0) a.erase(0, 3);
    if (k.count(a.substr(0, a.find('=')))) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (!runs_no_test(argc, argv)) {
    const std::string dir = sharelab_test::shared_data_dir();
    if (!fs::is_directory(dir)) {
      std::printf("SKIP: benchmark folder %s not found (README.md \"Benchmark files\"; SHARELAB_TASKS_DIR=DIR "
                  "points elsewhere)\n", dir.c_str());
      return 77;
    }
    int missing = 0;
    for (const auto& f : sharelab_test::needed_shared_data)
      if (!fs::exists(fs::path(dir) / f)) {
        std::printf("FAIL: %s lacks %s\n", dir.c_str(), f.c_str());
        ++missing;
      }
    if (missing) return 1;
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
