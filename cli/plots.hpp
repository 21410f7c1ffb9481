// PNG plots through gnuplot (gnuplot-iostream, pngcairo terminal): line plots, the article's
// training curves, a confusion matrix, the first layer's weights as tiles, and predicted digits.
// Plain data in; a missing or failing gnuplot is a result to print, never an exception or a crash.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad::cli {

/// What became of one plot. `message` is one line for the user: "wrote out/curves.png", or
/// "plot out/curves.png skipped: gnuplot not found (apt-get install gnuplot-nox)". A failed plot
/// leaves no file (an older PNG stays). Two failures end the run instead (Note [Plots never stop
/// a run] in plots.cpp), as std::runtime_error in one line: gnuplot running past
/// picture_time_limit(), and a picture that cannot be written for want of space (FileError,
/// "No space left on device"). Data that do not fit, a caller's bug, throw
/// std::invalid_argument.
struct [[nodiscard]] PlotResult {
  bool ok = false;
  std::string message;
};

/// True when gnuplot runs and has the pngcairo terminal. The program is $STEPGRAD_GNUPLOT when
/// that is set and not empty, else `gnuplot` on PATH (the same for every function here).
bool gnuplot_available();

/// How long one gnuplot or dot may run: $STEPGRAD_PLOT_TIMEOUT seconds (a number from 0.001 to
/// 86400, fractions allowed) when that is set and not empty, else 60 s. std::runtime_error in
/// one line when it is not such a number (cli::run() checks it before a program's work).
std::chrono::milliseconds picture_time_limit();

/// "" when `written` (what gnuplot or dot wrote for `target`) holds a whole PNG: its signature
/// first and its IEND chunk last; else why not ("gnuplot wrote an empty file"). gnuplot and dot
/// exit 0 when the disk fills under them, leaving the PNG cut short: such a file is checked
/// for room to write (FileError naming `target` and the reason, "No space left on device",
/// which ends the run).
std::string check_png(const std::filesystem::path& written, const std::filesystem::path& target,
                      std::string_view program);

/// ENOSPC or EDQUOT: a disk (or a quota) too full to hold a picture, which is the run's failure,
/// not the picture's (R42).
bool no_room(int err);

/// One line of a line plot; `y` has one value per x. NaN or infinity leaves a gap.
struct Series {
  std::string label;
  std::vector<double> y;
};

/// A line plot of several series over shared x values, with a legend below it (points are marked
/// when there are at most 30 of them, as for epochs).
PlotResult plot_lines(const std::filesystem::path& path, std::string_view title,
                      std::string_view xlabel, std::string_view ylabel, std::span<const double> x,
                      const std::vector<Series>& series);

/// Per-epoch numbers of one training run; each vector is empty (not plotted) or has one value
/// per epoch.
struct TrainingCurves {
  std::vector<double> epochs;  // 1, 2, ... (fractions allowed)
  std::vector<double> train_cost;
  std::vector<double> test_cost;
  std::vector<double> train_accuracy;  // in [0, 1]
  std::vector<double> test_accuracy;
  /// Which cost the cost panel shows: its title and y label.
  std::string cost_label = "cost";
};

/// The article's two figures side by side in one PNG: cost per epoch and accuracy per epoch,
/// train and test. Each panel needs at least one non-empty series.
PlotResult plot_training_curves(const std::filesystem::path& path, std::string_view title,
                                const TrainingCurves& curves);

/// One panel of plot_panels: its title, its y label and its lines.
struct Panel {
  std::string title;
  std::string ylabel;
  std::vector<Series> series;
};

/// Panels side by side in one PNG, sharing the x values (each series has one value per x).
PlotResult plot_panels(const std::filesystem::path& path, std::string_view title,
                       std::string_view xlabel, std::span<const double> x,
                       const std::vector<Panel>& panels);

/// A spread of runs: its lowest, mean and highest value per x.
struct Band {
  std::string label;
  std::vector<double> low, mean, high;
};

/// The band shaded from low to high with its mean as a line, then other lines. Each line has
/// its own colour, dash pattern and marker, and each is drawn thinner than the one before, so
/// that a line lying exactly on another stays visible.
PlotResult plot_band_and_lines(const std::filesystem::path& path, std::string_view title,
                               std::string_view xlabel, std::string_view ylabel,
                               std::span<const double> x, const Band& band,
                               const std::vector<Series>& lines);

/// A 10x10 confusion matrix as a heatmap: counts[true][predicted], true digits as rows top to
/// bottom. Each cell shows its count; its colour is the count's share of its row (the recall
/// of that true digit), so that rare and common digits compare.
PlotResult plot_confusion_matrix(const std::filesystem::path& path, std::string_view title,
                                 const std::vector<std::vector<std::int64_t>>& counts);

/// The rows of a first-layer weight matrix W0, shape (n, 784) (n = 128 for the article), each
/// reshaped to a 28x28 tile, 16 tiles a row (8x16 for 128). Colours blue-white-red, symmetric
/// around 0 and scaled per tile (w / max|w| of the tile), so that every unit's pattern shows
/// whatever its magnitude; a line under the tiles gives the global range.
PlotResult plot_weight_tiles(const std::filesystem::path& path, std::string_view title,
                             const Tensor& W0);

/// One test image and what the network made of it.
struct DigitPrediction {
  std::vector<std::uint8_t> pixels;  // (784,), row-major 28x28, 0..255
  int predicted = 0;
  int label = 0;
};

/// Digits in a grid of up to 10 a row, each titled with its prediction; wrong ones are framed
/// and titled in red "7 (true 2)".
PlotResult plot_digit_predictions(const std::filesystem::path& path, std::string_view title,
                                  const std::vector<DigitPrediction>& digits);

/// What a network with two inputs and one output in [0, 1] makes of a rectangle of the plane:
/// `p` holds rows x cols outputs, row-major, row 0 at y_min, column 0 at x_min, each the output
/// at the centre of its cell.
struct PlaneMap {
  std::string title;  // "epoch 5: train accuracy 0.86"
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  std::size_t cols = 0, rows = 0;
  std::vector<double> p;
};

/// The decision boundary as it forms: one panel per map (3 a row, 2 for 4), its background the
/// network's output from blue (0) through white (0.5, the boundary) to orange (1), and on every
/// panel the same points, `points` (2, n) one per column, class 0 dark blue and class 1 dark red.
PlotResult plot_decision_maps(const std::filesystem::path& path, std::string_view title,
                              const std::vector<PlaneMap>& maps, const Tensor& points,
                              std::span<const int> labels);

}  // namespace stepgrad::cli
