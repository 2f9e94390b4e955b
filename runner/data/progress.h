// Progress line for long data jobs on stderr: MB/s of input and tokens/s. On a TTY one line is
// redrawn with '\r' (at most 4 times a second); otherwise a plain line every 10 s, so logs stay short.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sharelab::data {

class Progress {
 public:
  Progress(std::string label, bool enabled);
  void add(int64_t bytes, int64_t tokens);
  void finish();  // prints the final totals line (when enabled)
  double seconds() const;
  int64_t bytes() const { return bytes_; }
  int64_t tokens() const { return tokens_; }

 private:
  void print(bool final_line);
  std::string label_;
  bool enabled_, tty_;
  int64_t bytes_ = 0, tokens_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace sharelab::data
