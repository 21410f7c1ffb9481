// The progress bar of the long runs (training): one line on stderr, redrawn in place.
#pragma once

#include <cstddef>
#include <string>

namespace stepgrad::cli {

/// A one-line progress bar on stderr (samples, rate, ETA), redrawn in place; silent when
/// stderr is not a terminal, so logs and golden files stay clean.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  /// Call with (done, total); cheap, throttled to a few redraws per second.
  void operator()(std::size_t done, std::size_t total);
  /// Erases the bar.
  void finish();

 private:
  std::string label_;
  bool enabled_;
  double start_ = 0.0;
  double last_draw_ = -1.0;
};

}  // namespace stepgrad::cli
