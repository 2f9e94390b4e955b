// stderr progress line (see progress.h).
#include "runner/data/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace sharelab::data {

Progress::Progress(std::string label, bool enabled)
    : label_(std::move(label)),
      enabled_(enabled),
      tty_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::add(int64_t bytes, int64_t tokens) {
  bytes_ += bytes;
  tokens_ += tokens;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(tty_ ? 250 : 10000)) return;
  last_ = now;
  print(false);
}

void Progress::print(bool final_line) {
  const double s = std::max(1e-9, seconds());
  const std::string msg = fmt::format("{}: {:.1f} MB read, {:.2f}M tokens, {:.1f}s, {:.2f} MB/s, {:.0f} tokens/s",
                                      label_, bytes_ / 1e6, tokens_ / 1e6, s, bytes_ / 1e6 / s, tokens_ / s);
  if (tty_)
    std::fprintf(stderr, "\r%s\x1b[K%s", msg.c_str(), final_line ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", msg.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_) print(true);
}

}  // namespace sharelab::data
