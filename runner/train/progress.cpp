// Progress bar / log lines.
#include "runner/train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

namespace sharelab::train {

Progress::Progress(std::string label, int64_t total_steps, double total_tokens, int64_t log_every, FILE* out)
    : label_(std::move(label)),
      total_steps_(total_steps),
      total_tokens_(total_tokens),
      log_every_(log_every),
      out_(out),
      tty_(::isatty(::fileno(out)) != 0) {}

std::string Progress::eta_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = int64_t(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

void Progress::step(const StepInfo& s) {
  const double eta = s.tokens_per_s > 0 ? (total_tokens_ - s.tokens) / s.tokens_per_s : -1;
  const std::string body =
      fmt::format("step {}/{} | tok {:.3g}/{:.3g} | loss {:.4f} | lr {:.2e} | gnorm {:.3f} | {:.0f} tok/s | ep {:.2f} | ETA {}",
                  s.step, total_steps_, s.tokens, total_tokens_, s.loss, s.lr, s.grad_norm, s.tokens_per_s, s.epochs,
                  eta_text(eta));
  if (tty_) {
    const int width = 24;
    const int filled = total_steps_ > 0 ? int(width * double(s.step) / double(total_steps_)) : 0;
    fmt::print(out_, "\r\033[K{} [{}{}] {}", label_, std::string(filled, '#'), std::string(width - filled, '.'), body);
    bar_open_ = true;
  } else if (s.step % log_every_ == 0 || s.step == total_steps_) {
    fmt::print(out_, "{} {}\n", label_, body);
  }
  std::fflush(out_);
}

void Progress::message(const std::string& line) {
  if (bar_open_) fmt::print(out_, "\r\033[K");
  fmt::print(out_, "{} {}\n", label_, line);
  bar_open_ = false;
  std::fflush(out_);
}

void Progress::finish() {
  if (bar_open_) fmt::print(out_, "\n");
  bar_open_ = false;
  std::fflush(out_);
}

}  // namespace sharelab::train
