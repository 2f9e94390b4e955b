// Training progress on stderr: a one-line `\r` bar redrawn every step when stderr is a terminal,
// plain log lines every `log_every` steps otherwise (files, CI, sweeps in the background).
// Validation and checkpoint messages always get their own line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace sharelab::train {

struct StepInfo {
  int64_t step = 0;  // steps done
  double tokens = 0, loss = 0, lr = 0, grad_norm = 0, tokens_per_s = 0, epochs = 0;
};

class Progress {
 public:
  Progress(std::string label, int64_t total_steps, double total_tokens, int64_t log_every, FILE* out = stderr);
  void step(const StepInfo& s);            // ETA from tokens_per_s
  void message(const std::string& line);   // its own line (clears a bar first)
  void finish();                           // ends a bar's line

  static std::string eta_text(double seconds);  // "1h02m", "3m05s", "12s"

 private:
  std::string label_;
  int64_t total_steps_;
  double total_tokens_;
  int64_t log_every_;
  FILE* out_;
  bool tty_;
  bool bar_open_ = false;
};

}  // namespace sharelab::train
