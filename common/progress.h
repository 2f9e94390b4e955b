// One progress reporter for every long job (data prepare, training, evaluation). On a terminal it
// redraws one line in place, at most 4 times a second; anywhere else (a log file, a pipe, CI) it
// writes whole lines now and then and one at the end, so a log never holds a '\r'.
// A line: "<label> [bar] 512/1000 req (51%) | 41.3 req/s | ETA 12s | <the caller's fields>"
// (the bar only on a terminal; the final line says "elapsed" where the others say "ETA").
#pragma once

#include <chrono>
#include <iostream>
#include <string>
#include <string_view>

namespace sharelab {

struct ProgressOptions {
  std::string label;        // starts every line: "data prepare", "hellaswag", the run's name
  double total = 0;         // units of work in all; 0: open-ended (no bar, percentage or ETA)
  std::string unit;         // what is counted: "MB", "steps", "req"
  double start = 0;         // units done before this process began (a resumed run): not in the rate
  bool show_rate = true;    // "41.3 req/s"; off where the caller's fields carry a rate of their own
  bool enabled = true;      // false (--no-progress): update() and finish() write nothing
  // Not a terminal: a line once `done` has crossed another multiple of line_every (0: any update)
  // and line_every_s seconds have passed, both since the previous line.
  double line_every = 0;
  double line_every_s = 10;
};

class ProgressReporter {
 public:
  // A terminal when `out` is std::cerr or std::clog (isatty(2)) or std::cout (isatty(1)).
  explicit ProgressReporter(ProgressOptions opt, std::ostream& out = std::cerr);
  ProgressReporter(ProgressOptions opt, std::ostream& out, bool terminal);
  ~ProgressReporter();  // ends an open terminal line, so that an error message gets its own

  // `done` units so far; `fields` (loss, tokens, ...) ends the line. Writes only when due.
  void update(double done, std::string_view fields = {});
  bool due(double done) const;  // whether update(done) would write now: for fields that cost to build
  void finish(double done, std::string_view fields = {});  // the final line (when enabled)
  void message(std::string_view text);  // "<label> <text>" on a line of its own, even when disabled

  double elapsed_s() const;

 private:
  std::string line(double done, std::string_view fields, bool final_line) const;
  void write(const std::string& text, bool final_line);

  ProgressOptions opt_;
  std::ostream& out_;
  int fd_ = -1;  // the terminal's descriptor, for its width; -1: not known
  bool terminal_;
  bool line_open_ = false;  // a terminal line drawn and not ended
  std::chrono::steady_clock::time_point start_;
  double last_write_s_ = 0, last_line_done_;
};

std::string format_duration(double seconds);  // "4.2s", "12s", "3m05s", "1h02m"; "?" when unknown
std::string format_rate(double per_second);   // three significant digits or so: "3100", "41.3", "2.46"

}  // namespace sharelab
