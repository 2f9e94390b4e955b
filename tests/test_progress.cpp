// common/progress: whole lines and no '\r' anywhere but a terminal, periodic lines at the caller's
// cadence, a final line always, and sane rate and duration text.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/progress.h"

using namespace sharelab;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

ProgressOptions every_tenth_of(double total) {
  ProgressOptions o;
  o.label = "hellaswag";
  o.total = total;
  o.unit = "req";
  o.line_every = total / 10;
  o.line_every_s = 0;
  return o;
}

}  // namespace

TEST_CASE("not a terminal: whole lines, no '\\r', one per tenth of the total and a final one") {
  std::ostringstream out;
  {
    ProgressReporter p(every_tenth_of(100), out);
    for (int done = 1; done <= 100; ++done) p.update(done);
    p.finish(100);
  }
  const std::string text = out.str();
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find('\x1b') == std::string::npos);
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  const auto lines = lines_of(text);
  REQUIRE(lines.size() == 10);  // 10, 20, ..., 90, then the final line (not a second one at 100)
  CHECK(lines.front().rfind("hellaswag 10/100 req (10%) | ", 0) == 0);
  CHECK(contains(lines.front(), " req/s | ETA "));
  CHECK(lines.back().rfind("hellaswag 100/100 req (100%) | ", 0) == 0);
  CHECK(contains(lines.back(), " req/s | elapsed "));
  CHECK(!contains(lines.back(), "ETA"));
}

TEST_CASE("the final line is written even when no periodic line was due, and to a file") {
  const std::string path = "test_progress.tmp.log";
  {
    std::ofstream file(path);
    ProgressOptions o;
    o.label = "data prepare";
    o.unit = "MB";  // open-ended: no total
    ProgressReporter p(o, file);  // line_every_s = 10: nothing due within this test
    for (int i = 1; i <= 1000; ++i) p.update(i * 0.01, "1.00M tokens");
    p.finish(12.5, "2.00M tokens");
  }
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  CHECK(text.find('\r') == std::string::npos);
  const auto lines = lines_of(text);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("data prepare 12.5 MB | ", 0) == 0);
  CHECK(contains(lines[0], " MB/s | elapsed "));
  CHECK(contains(lines[0], "s | 2.00M tokens"));
}

TEST_CASE("disabled: no progress at all, but events still get their line") {
  std::ostringstream out;
  ProgressOptions o = every_tenth_of(10);
  o.enabled = false;
  ProgressReporter p(o, out);
  for (int done = 1; done <= 10; ++done) p.update(done);
  p.message("checkpoint step 10");
  p.finish(10);
  CHECK(out.str() == "hellaswag checkpoint step 10\n");
}

TEST_CASE("a resumed count: lines at the multiples of line_every after where it resumed") {
  std::ostringstream out;
  ProgressOptions o;
  o.label = "run";
  o.total = 100;
  o.unit = "steps";
  o.start = 45;
  o.show_rate = false;
  o.line_every = 10;
  o.line_every_s = 0;
  ProgressReporter p(o, out);
  for (int step = 46; step <= 75; ++step) p.update(step, "loss 2.5000");
  p.finish(75, "loss 2.0000");
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 4);
  for (int i = 0; i < 3; ++i) {
    CHECK(lines[i].rfind(fmt::format("run {}/100 steps ({}%) | ETA ", 50 + 10 * i, 50 + 10 * i), 0) == 0);
    CHECK(contains(lines[i], "s | loss 2.5000"));
  }
  CHECK(lines[3].rfind("run 75/100 steps (75%) | elapsed ", 0) == 0);
  CHECK(contains(lines[3], "s | loss 2.0000"));
}

TEST_CASE("a terminal: one line redrawn in place with a bar, ended by the final line") {
  std::ostringstream out;
  ProgressReporter p(every_tenth_of(10), out, /*terminal=*/true);
  p.update(5);  // within the first quarter second: not drawn
  p.message("resumed");
  p.finish(10);
  CHECK(out.str().rfind("hellaswag resumed\n\rhellaswag [########################] 10/10 req (100%) | ", 0) == 0);
  CHECK(out.str().size() > 4);
  CHECK(out.str().substr(out.str().size() - 4) == "\x1b[K\n");
}

TEST_CASE("the rate and the ETA agree with the time taken") {
  std::ostringstream out;
  ProgressReporter p(every_tenth_of(100), out);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  p.update(25);  // a quarter done in >= 0.3 s: ETA about 3x that
  const std::string line = out.str();
  double rate = 0, eta = 0;
  REQUIRE(std::sscanf(line.c_str(), "hellaswag 25/100 req (25%%) | %lf req/s | ETA %lfs", &rate, &eta) == 2);
  CHECK(rate > 0);
  CHECK(rate <= 25 / 0.3);
  CHECK(eta >= 0.85);
  CHECK(rate * eta == doctest::Approx(75).epsilon(0.15));  // the rest at the same rate
}

TEST_CASE("rate and duration text") {
  CHECK(format_rate(3100.4) == "3100");
  CHECK(format_rate(41.26) == "41.3");
  CHECK(format_rate(2.456) == "2.46");
  CHECK(format_rate(0) == "0.00");
  CHECK(format_rate(-1) == "?");
  CHECK(format_duration(4.2) == "4.2s");
  CHECK(format_duration(12.4) == "12s");
  CHECK(format_duration(185) == "3m05s");
  CHECK(format_duration(3725) == "1h02m");
  CHECK(format_duration(-1) == "?");
  CHECK(format_duration(1.0 / 0.0) == "?");
}
