// Progress bar (see progress_bar.h).
#include "runner/eval/progress_bar.h"

#include <fmt/format.h>

#include <cstdio>

namespace sharelab::eval {

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit, bool enabled)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), enabled_(enabled),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double ProgressBar::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::draw(int64_t done) {
  const double s = elapsed_s(), rate = s > 0 ? double(done) / s : 0;
  const int width = 24, filled = total_ > 0 ? int(width * std::min<int64_t>(done, total_) / total_) : 0;
  const double eta = rate > 0 ? double(total_ - done) / rate : 0;
  fmt::print(stderr, "\r{:<16} [{}{}] {}/{} {}  {:.1f} {}/s  eta {:.0f}s   ", label_, std::string(filled, '#'),
             std::string(width - filled, '.'), done, total_, unit_, rate, unit_, eta);
  std::fflush(stderr);
}

void ProgressBar::update(int64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && std::chrono::duration<double>(now - last_draw_).count() < 0.2) return;
  last_draw_ = now;
  draw(done);
}

void ProgressBar::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  draw(total_);
  fmt::print(stderr, "\n");
}

}  // namespace sharelab::eval
