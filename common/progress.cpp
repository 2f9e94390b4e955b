// The progress reporter (see progress.h).
#include "common/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace sharelab {

namespace {

constexpr double kRedrawEvery_s = 0.25;
constexpr int kBarWidth = 24;

// The descriptor behind the standard streams; -1 for any other stream (files, strings).
int fd_of(const std::ostream& out) {
  if (&out == &std::cerr || &out == &std::clog) return 2;
  if (&out == &std::cout) return 1;
  return -1;
}

std::string format_count(double v) {
  return v == std::floor(v) && std::fabs(v) < 1e15 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v);
}

}  // namespace

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 10) return fmt::format("{:.1f}s", s);
  const int64_t t = int64_t(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

std::string format_rate(double r) {
  if (!std::isfinite(r) || r < 0) return "?";
  return fmt::format(r >= 100 ? "{:.0f}" : r >= 10 ? "{:.1f}" : "{:.2f}", r);
}

ProgressReporter::ProgressReporter(ProgressOptions opt, std::ostream& out)
    : ProgressReporter(std::move(opt), out, fd_of(out) >= 0 && ::isatty(fd_of(out))) {
  fd_ = fd_of(out);
}

ProgressReporter::ProgressReporter(ProgressOptions opt, std::ostream& out, bool terminal)
    : opt_(std::move(opt)),
      out_(out),
      terminal_(terminal),
      start_(std::chrono::steady_clock::now()),
      last_line_done_(opt_.start) {}

ProgressReporter::~ProgressReporter() {
  if (line_open_) out_ << '\n' << std::flush;
}

double ProgressReporter::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool ProgressReporter::due(double done) const {
  if (!opt_.enabled) return false;
  const double since_last = elapsed_s() - last_write_s_;
  if (terminal_) return since_last >= kRedrawEvery_s;
  if (opt_.total > 0 && done >= opt_.total) return false;  // the last line is finish()'s
  const double every = opt_.line_every;
  const bool crossed = every <= 0 || std::floor(done / every) > std::floor(last_line_done_ / every);
  return crossed && since_last >= opt_.line_every_s;
}

void ProgressReporter::update(double done, std::string_view fields) {
  if (!due(done)) return;
  last_line_done_ = done;
  write(line(done, fields, false), false);
}

void ProgressReporter::finish(double done, std::string_view fields) {
  if (opt_.enabled) write(line(done, fields, true), true);
}

void ProgressReporter::message(std::string_view text) {
  if (line_open_) out_ << "\r\x1b[K";
  line_open_ = false;
  out_ << opt_.label << ' ' << text << '\n' << std::flush;
}

std::string ProgressReporter::line(double done, std::string_view fields, bool final_line) const {
  const double s = elapsed_s(), total = opt_.total;
  const double rate = s > 0 ? (done - opt_.start) / s : 0;
  std::string out = opt_.label;
  auto add = [&](std::string_view part) { (out += " | ") += part; };
  if (total > 0) {
    const double frac = std::clamp(done / total, 0.0, 1.0);
    if (terminal_) {
      const int filled = int(kBarWidth * frac);
      out += fmt::format(" [{}{}]", std::string(filled, '#'), std::string(kBarWidth - filled, '.'));
    }
    out += fmt::format(" {}/{} {} ({:.0f}%)", format_count(done), format_count(total), opt_.unit, 100 * frac);
  } else {
    out += fmt::format(" {} {}", format_count(done), opt_.unit);
  }
  if (opt_.show_rate) add(fmt::format("{} {}/s", format_rate(rate), opt_.unit));
  if (final_line || total <= 0)
    add("elapsed " + format_duration(s));
  else
    add("ETA " + format_duration(rate > 0 ? (total - done) / rate : -1));
  if (!fields.empty()) add(fields);  // last: a narrow terminal cuts the end of the line off
  return out;
}

void ProgressReporter::write(const std::string& text, bool final_line) {
  last_write_s_ = elapsed_s();
  if (!terminal_) {
    out_ << text << '\n' << std::flush;
    return;
  }
  // A line wider than the terminal would wrap, and '\r' would then redraw only its last row.
  winsize ws{};
  const bool narrow = fd_ >= 0 && ::ioctl(fd_, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && text.size() >= ws.ws_col;
  out_ << '\r' << (narrow ? std::string_view(text).substr(0, ws.ws_col - 1) : std::string_view(text)) << "\x1b[K";
  out_ << (final_line ? "\n" : "") << std::flush;
  line_open_ = !final_line;
}

}  // namespace sharelab
