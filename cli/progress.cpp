// The progress bar: drawn only on a terminal.
#include <stepgrad/cli/progress.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include <fmt/format.h>

namespace stepgrad::cli {

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) != 0), start_(now_seconds()) {}

void ProgressBar::operator()(std::size_t done, std::size_t total) {
  if (!enabled_ || total == 0) return;
  const double t = now_seconds();
  if (done < total && t - last_draw_ < 0.2) return;
  last_draw_ = t;
  const double elapsed = t - start_;
  const double rate = elapsed > 0.0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0.0 ? static_cast<double>(total - done) / rate : 0.0;
  constexpr std::size_t kWidth = 30;
  const std::size_t filled = done * kWidth / total;
  fmt::print(stderr, "\r{} [{:#<{}}{:.<{}}] {}/{} {:.0f} samples/s ETA {:.0f} s   ", label_, "",
             filled, "", kWidth - filled, done, total, rate, eta);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_) return;
  fmt::print(stderr, "\r{:<100}\r", "");
  std::fflush(stderr);
}

}  // namespace stepgrad::cli
