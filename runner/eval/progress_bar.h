// A one-line progress bar on stderr for the harness: "hellaswag  [#####.....]  512/1000 docs
// 41.3 docs/s  eta 12s", redrawn at most 5 times a second and finished with a newline.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sharelab::eval {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, std::string unit, bool enabled);
  void update(int64_t done);
  void finish();
  double elapsed_s() const;

 private:
  std::string label_, unit_;
  int64_t total_;
  bool enabled_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  void draw(int64_t done);
};

}  // namespace sharelab::eval
