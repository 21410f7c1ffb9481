// Plots: we start gnuplot ourselves (ChildProcess, for its exit status, its error text and a
// time limit), stream commands and data to it with gnuplot-iostream, and move the PNG into place
// only when gnuplot succeeded. See Note [Plots never stop a run].
#include <stepgrad/cli/plots.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gnuplot-iostream.h>

#include <stepgrad/io/files.hpp>
#include <stepgrad/io/process.hpp>

namespace stepgrad::cli {
namespace {

namespace fs = std::filesystem;

// Note [Plots never stop a run]
// The numbers of a run print whatever becomes of its pictures, so every gnuplot problem
// (missing, no pngcairo, an error in our script, a crash) is a PlotResult with ok = false and
// a one-line message, never an exception. Two failures are not the picture's but the run's, and
// end it in one line (R40-R42 in docs/reliability.md): a gnuplot still running after
// picture_time_limit() (it is killed, with anything it started: Note [Children die with us] in
// io/process.hpp), and a disk too full to hold the picture. gnuplot notices neither ENOSPC nor
// any other failed write: it exits 0 and leaves a PNG cut short, so every PNG must end with its
// IEND chunk, and one that does not is checked for room (check_png). gnuplot may exit while we
// still write to its pipe: SIGPIPE is blocked in this thread around the writes (and a SIGPIPE they
// raised is taken off the pending set before the old mask returns), so the write fails with EPIPE,
// the stream goes bad, and we report it. gnuplot writes a temporary file beside the target, renamed
// over it only after gnuplot exited 0 and the file starts with the PNG signature: a failed plot
// leaves no file and keeps an older PNG (R20 in docs/reliability.md: no partial output files).

constexpr std::size_t kDigitSide = 28;  // MNIST images are 28x28
constexpr std::size_t kDigitPixels = kDigitSide * kDigitSide;

/// $STEPGRAD_GNUPLOT, else "gnuplot" (found on PATH).
std::string gnuplot_program() {
  const char* program = std::getenv("STEPGRAD_GNUPLOT");
  return program != nullptr && *program != '\0' ? program : "gnuplot";
}

/// `s` as a gnuplot single-quoted string: backslashes are literal there and '' is a quote.
/// Control characters (a newline would end the command) become spaces.
std::string gnuplot_string(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "''";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// The errno of a write at the end of `path` (up to 256 KiB of zeros, to the file's own file
/// system), 0 when it had room: why a PNG was cut short.
int room_to_write(const fs::path& path) {
  const Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  const std::vector<char> zeros(64 * 1024, '\0');
  for (int k = 0; k < 4; ++k) {
    ssize_t n = 0;
    while ((n = ::write(fd.get(), zeros.data(), zeros.size())) < 0 && errno == EINTR) {
    }
    if (n < 0) return errno;
  }
  return 0;
}

/// The same as check_png without the probe for room.
std::string png_problem(const fs::path& path, std::string_view program) {
  static constexpr std::array<unsigned char, 8> kSignature = {0x89, 'P',  'N',  'G',
                                                              '\r', '\n', 0x1a, '\n'};
  // The last chunk of every PNG: length 0, "IEND", its CRC.
  static constexpr std::array<unsigned char, 12> kEnd = {0,   0,   0,    0,    'I',  'E',
                                                         'N', 'D', 0xae, 0x42, 0x60, 0x82};
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return fmt::format("cannot read {}'s output: {}", program, errno_text(errno));
  std::array<unsigned char, 8> head{};
  const std::size_t n = std::fread(head.data(), 1, head.size(), file.get());
  if (n == 0) return fmt::format("{} wrote an empty file", program);
  if (n < head.size() || head != kSignature)
    return fmt::format("{} wrote something that is not a PNG", program);
  std::array<unsigned char, 12> tail{};
  if (std::fseek(file.get(), -static_cast<long>(tail.size()), SEEK_END) != 0 ||
      std::fread(tail.data(), 1, tail.size(), file.get()) != tail.size() || tail != kEnd) {
    return fmt::format("{} wrote a PNG cut short (no IEND chunk at its end)", program);
  }
  return "";
}

/// gnuplot's complaint in one line. gnuplot stops at its first error, so that is the last
/// "line N: ..." it printed that is not a warning; else its last line.
std::string complaint(std::FILE* log) {
  if (log == nullptr) return "no message";
  std::string text(16384, '\0');  // the tail is enough: the error comes last
  std::fseek(log, 0, SEEK_END);
  const long size = std::ftell(log);
  std::fseek(log, std::max(0L, size - static_cast<long>(text.size())), SEEK_SET);
  text.resize(std::fread(text.data(), 1, text.size(), log));
  std::string error, last;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    const std::size_t at = line.find("line ");
    if (at != std::string::npos && at + 5 < line.size() &&
        std::isdigit(static_cast<unsigned char>(line[at + 5])) != 0 &&
        line.find(':', at) != std::string::npos && line.find("warning") == std::string::npos) {
      error = line;
    }
    last = line;
  }
  const std::string& pick = error.empty() ? last : error;
  return pick.empty() ? "no message" : pick.substr(0, 200);
}

using Script = std::function<void(Gnuplot&)>;

/// Runs gnuplot on a pngcairo terminal of width x height pixels writing a temporary file,
/// lets `script` send the commands and data, and moves the PNG to `path` if all went well.
PlotResult render(const fs::path& path, int width, int height, const Script& script) {
  const auto skipped = [&path](std::string_view why) {
    return PlotResult{false, fmt::format("plot {} skipped: {}", path.string(), why)};
  };
  std::optional<AtomicFile> png;  // gnuplot writes its temporary file (Note [Atomic save])
  try {
    png.emplace(path);
  } catch (const FileError& e) {
    if (no_room(e.error())) throw;  // the run's failure (R42)
    return skipped(e.why());
  }

  // gnuplot's stdout and stderr, read back only when it fails; an unnamed file cannot fill up
  // and stall gnuplot the way an unread pipe would.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log(std::tmpfile(), &std::fclose);
  Fd null(log ? -1 : ::open("/dev/null", O_WRONLY | O_CLOEXEC));
  const int log_fd = log ? ::fileno(log.get()) : null.get();

  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    return skipped(fmt::format("cannot make a pipe: {}", errno_text(errno)));
  }
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);
  const std::string program = gnuplot_program();
  const std::chrono::milliseconds limit = picture_time_limit();
  ChildProcess gnuplot(program, {}, read_end.get(), log_fd, limit);
  // Our copy of the read end must go, or a gnuplot that quit would never make our writes fail.
  read_end.reset();
  if (gnuplot.error() == ENOENT) {
    return skipped(fmt::format("{} not found (apt-get install gnuplot-nox)", program));
  }
  if (gnuplot.error() != 0) {
    return skipped(fmt::format("cannot run {}: {}", program, errno_text(gnuplot.error())));
  }

  bool write_failed = false;
  {
    SigpipeBlocked no_sigpipe;
    std::FILE* stream = ::fdopen(write_end.get(), "w");
    if (stream == nullptr) {
      write_failed = true;
      write_end.reset();  // gnuplot sees EOF, or gnuplot.wait() below would wait forever
    } else {
      write_end.release();  // the Gnuplot object closes it (fclose), which gives gnuplot EOF
      // The device throws std::ios_base::failure on EPIPE; the ostream catches it and goes
      // bad, and writes to a bad stream do nothing.
      Gnuplot gp(stream);
      gp << "set encoding utf8\n"
         << fmt::format("set terminal pngcairo size {},{} font 'Sans,12' noenhanced\n", width,
                        height)
         << "set output " << gnuplot_string(png->temp_path().string()) << "\n";
      script(gp);
      gp << "unset output\n" << std::flush;
      write_failed = !gp.good();
    }
  }
  // The status is unknown (-1) when the caller ignores SIGCHLD (children are then reaped
  // unasked); the checks of the file below still hold.
  const int status = gnuplot.wait();
  if (gnuplot.timed_out()) {  // the run's failure, not the picture's
    throw std::runtime_error(fmt::format(
        "plot {}: {} did not finish within {} and was stopped (STEPGRAD_PLOT_TIMEOUT sets the "
        "limit)",
        path.string(), program, describe_limit(limit)));
  }
  if (status >= 0 && WIFSIGNALED(status)) {
    return skipped(fmt::format("{} was killed by signal {}", program, WTERMSIG(status)));
  }
  if (status >= 0 && WEXITSTATUS(status) != 0) {
    // A full disk is the run's failure however gnuplot took it (check_png throws).
    if (!png->writes_through()) (void)check_png(png->temp_path(), path, "gnuplot");
    return skipped(
        fmt::format("{} failed (exit {}): {}", program, WEXITSTATUS(status), complaint(log.get())));
  }
  if (write_failed) return skipped(fmt::format("{} stopped reading its input", program));
  if (png->writes_through()) return {true, fmt::format("wrote {}", path.string())};
  if (std::string why = check_png(png->temp_path(), path, "gnuplot"); !why.empty())
    return skipped(why);
  try {
    png->commit();
  } catch (const FileError& e) {
    if (no_room(e.error())) throw;  // the run's failure (R42)
    return skipped(e.why());
  }
  return {true, fmt::format("wrote {}", path.string())};
}

// ---- Shared pieces of the scripts ----

/// Plain, distinguishable line colours (matplotlib's first eight).
constexpr std::array<std::string_view, 8> kLineColours = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

void check_path(const fs::path& path, std::string_view function) {
  if (!path.has_filename()) {
    throw std::invalid_argument(fmt::format("{}: '{}' names no file", function, path.string()));
  }
}

/// Copies `v` with every infinity made NaN, which gnuplot draws as a gap.
std::vector<double> finite_or_gap(std::span<const double> v) {
  std::vector<double> out(v.begin(), v.end());
  for (double& y : out) {
    if (!std::isfinite(y)) y = std::nan("");
  }
  return out;
}

/// One tic per x when the x values are a few whole numbers (epochs).
void set_xtics(Gnuplot& gp, std::span<const double> x) {
  const bool whole = std::all_of(x.begin(), x.end(),
                                 [](double v) { return std::isfinite(v) && v == std::round(v); });
  if (whole && !x.empty() && std::ranges::max(x) - std::ranges::min(x) <= 20) {
    gp << "set xtics 1\n";
  }
}

/// A `plot` of several '-' series drawn as lines (and points when there are at most 30),
/// followed by their data.
void plot_series(Gnuplot& gp, std::span<const double> x, const std::vector<Series>& series) {
  const std::string style = x.size() <= 30 ? "linespoints pt 7 ps 0.9" : "lines";
  gp << "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    gp << (i == 0 ? "" : ", ") << "'-' using 1:2 with " << style << " lw 2 lc rgb '"
       << kLineColours[i % kLineColours.size()] << "' title " << gnuplot_string(series[i].label);
  }
  gp << "\n";
  const std::vector<double> xs(x.begin(), x.end());
  for (const Series& s : series) gp.send1d(std::make_pair(xs, finite_or_gap(s.y)));
}

/// Sends a row-major image of `cols` x `rows` doubles as binary inline data; the `plot` command
/// names it with `binary_image(cols, rows)`.
std::string binary_image(std::size_t cols, std::size_t rows) {
  return fmt::format("'-' binary array=({},{}) format='%float64'", cols, rows);
}

/// A grey rectangle behind an image, so that its NaN pixels (the gaps) show grey.
std::string backdrop(std::size_t cols, std::size_t rows, std::string_view colour) {
  return fmt::format(
      "set object 1 rectangle from -0.5,-0.5 to {},{} behind fillcolor rgb '{}' "
      "fillstyle solid noborder\n",
      static_cast<double>(cols) - 0.5, static_cast<double>(rows) - 0.5, colour);
}

/// Axes for an image: square pixels, first row at the top, no tics or border.
std::string image_axes(std::size_t cols, std::size_t rows) {
  return fmt::format(
      "set size ratio -1\nset xrange [-0.5:{}]\nset yrange [{}:-0.5]\n"
      "unset xtics\nunset ytics\nset border 0\nunset key\n",
      static_cast<double>(cols) - 0.5, static_cast<double>(rows) - 0.5);
}

// Each series has one value per x (std::invalid_argument naming `fn` and the series if not).
void check_series(std::string_view fn, std::span<const double> x,
                  const std::vector<Series>& series) {
  for (const Series& s : series) {
    if (s.y.size() != x.size()) {
      throw std::invalid_argument(
          fmt::format("{}: series '{}' has {} values for {} x", fn, s.label, s.y.size(), x.size()));
    }
  }
}

}  // namespace

bool gnuplot_available() {
  Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null.get() < 0) return false;
  ChildProcess gnuplot(gnuplot_program(), {"-e", "set terminal pngcairo"}, null.get(), null.get(),
                       picture_time_limit());
  if (gnuplot.error() != 0) return false;
  const int status = gnuplot.wait();
  return !gnuplot.timed_out() && status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool no_room(int err) { return err == ENOSPC || err == EDQUOT; }

std::chrono::milliseconds picture_time_limit() {
  const char* text = std::getenv("STEPGRAD_PLOT_TIMEOUT");
  if (text == nullptr || *text == '\0') return std::chrono::seconds(60);
  // Plain decimal seconds: digits, at most one point, nothing else (no sign, space or exponent).
  const std::string_view s(text);
  const bool plain = s.size() <= 12 &&
                     s.find_first_not_of("0123456789.") == std::string_view::npos &&
                     std::count(s.begin(), s.end(), '.') <= 1 && s != ".";
  const double seconds = plain ? std::strtod(text, nullptr) : 0.0;
  if (!(seconds >= 0.001 && seconds <= 86400.0)) {
    throw std::runtime_error(fmt::format(
        "STEPGRAD_PLOT_TIMEOUT: expected the seconds gnuplot and dot may run, a number from 0.001 "
        "to 86400, found '{}'",
        s.substr(0, 40)));
  }
  return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

std::string check_png(const fs::path& written, const fs::path& target, std::string_view program) {
  std::string why = png_problem(written, program);
  if (why.empty()) return why;
  if (const int err = room_to_write(written); no_room(err)) {
    throw FileError(target.string(),
                    fmt::format("{} could not write the picture: {}", program, errno_text(err)),
                    err);
  }
  return why;
}

PlotResult plot_lines(const fs::path& path, std::string_view title, std::string_view xlabel,
                      std::string_view ylabel, std::span<const double> x,
                      const std::vector<Series>& series) {
  check_path(path, "plot_lines");
  if (x.empty() || series.empty()) {
    throw std::invalid_argument("plot_lines: no points or no series");
  }
  check_series("plot_lines", x, series);
  return render(path, 800, 500, [&](Gnuplot& gp) {
    gp << "set title " << gnuplot_string(title) << " font ',14'\n"
       << "set xlabel " << gnuplot_string(xlabel) << "\nset ylabel " << gnuplot_string(ylabel)
       << "\n"
       << "set grid lc rgb '#dddddd'\n"
       << (series.size() > 1 ? "set key below height 1\n" : "unset key\n");
    set_xtics(gp, x);
    plot_series(gp, x, series);
  });
}

PlotResult plot_training_curves(const fs::path& path, std::string_view title,
                                const TrainingCurves& curves) {
  check_path(path, "plot_training_curves");
  const auto panel = [&curves](const std::vector<double>& train, const std::vector<double>& test,
                               std::string_view what) {
    std::vector<Series> series;
    for (const auto& [label, values] : {std::pair{"train", &train}, std::pair{"test", &test}}) {
      if (values->empty()) continue;
      if (values->size() != curves.epochs.size()) {
        throw std::invalid_argument(
            fmt::format("plot_training_curves: {} {} has {} values for {} epochs", label, what,
                        values->size(), curves.epochs.size()));
      }
      series.push_back({label, *values});
    }
    if (series.empty()) {
      throw std::invalid_argument(fmt::format("plot_training_curves: no {} to plot", what));
    }
    return series;
  };
  const std::vector<Series> cost = panel(curves.train_cost, curves.test_cost, "cost");
  const std::vector<Series> accuracy =
      panel(curves.train_accuracy, curves.test_accuracy, "accuracy");
  return render(path, 1100, 480, [&](Gnuplot& gp) {
    gp << "set multiplot layout 1,2 title " << gnuplot_string(title) << " font ',14'\n"
       << "set grid lc rgb '#dddddd'\nset key below height 1\nset xlabel 'epoch'\n";
    set_xtics(gp, curves.epochs);
    gp << "set title " << gnuplot_string(curves.cost_label + " per epoch") << "\nset ylabel "
       << gnuplot_string(curves.cost_label) << "\n";
    plot_series(gp, curves.epochs, cost);
    gp << "set title 'accuracy per epoch'\nset ylabel 'accuracy'\n";
    plot_series(gp, curves.epochs, accuracy);
    gp << "unset multiplot\n";
  });
}

PlotResult plot_panels(const fs::path& path, std::string_view title, std::string_view xlabel,
                       std::span<const double> x, const std::vector<Panel>& panels) {
  check_path(path, "plot_panels");
  if (x.empty() || panels.empty())
    throw std::invalid_argument("plot_panels: no points or no panel");
  for (const Panel& p : panels) {
    if (p.series.empty()) {
      throw std::invalid_argument(fmt::format("plot_panels: panel '{}' has no series", p.title));
    }
    check_series("plot_panels", x, p.series);
  }
  const int width = 460 * static_cast<int>(panels.size());
  // One bottom margin for every panel, room for the longest key under the x label: left to
  // gnuplot, each panel sized its own, and a longer key ran over its x label.
  std::size_t longest = 0;
  for (const Panel& p : panels) longest = std::max(longest, p.series.size());
  return render(path, width, 520, [&](Gnuplot& gp) {
    gp << fmt::format("set multiplot layout 1,{} title ", panels.size()) << gnuplot_string(title)
       << " font ',14'\n"
       << "set grid lc rgb '#dddddd'\nset key below Left reverse maxcols 1\nset xlabel "
       << gnuplot_string(xlabel) << "\n"
       << fmt::format("set bmargin {}\n", longest + 4);
    set_xtics(gp, x);
    for (const Panel& p : panels) {
      gp << "set title " << gnuplot_string(p.title) << "\nset ylabel " << gnuplot_string(p.ylabel)
         << "\n";
      plot_series(gp, x, p.series);
    }
    gp << "unset multiplot\n";
  });
}

PlotResult plot_band_and_lines(const fs::path& path, std::string_view title,
                               std::string_view xlabel, std::string_view ylabel,
                               std::span<const double> x, const Band& band,
                               const std::vector<Series>& lines) {
  check_path(path, "plot_band_and_lines");
  if (x.empty()) throw std::invalid_argument("plot_band_and_lines: no points");
  for (const auto* v : {&band.low, &band.mean, &band.high}) {
    if (v->size() != x.size()) {
      throw std::invalid_argument(
          fmt::format("plot_band_and_lines: band '{}' has {} values for {} x", band.label,
                      v->size(), x.size()));
    }
  }
  check_series("plot_band_and_lines", x, lines);
  constexpr std::array<int, 4> kDashes = {1, 2, 4, 5};  // solid, dashed, dash-dot, dash-dot-dot
  constexpr std::array<int, 5> kMarkers = {7, 5, 9, 13, 11};  // disc, square, triangles, diamond
  return render(path, 800, 540, [&](Gnuplot& gp) {
    gp << "set title " << gnuplot_string(title) << " font ',14'\n"
       << "set xlabel " << gnuplot_string(xlabel) << "\nset ylabel " << gnuplot_string(ylabel)
       << "\nset grid lc rgb '#dddddd'\nset key below height 1\n";
    set_xtics(gp, x);
    const std::string_view band_colour = kLineColours[0];
    gp << "plot '-' using 1:2:3 with filledcurves fc rgb '" << band_colour
       << "' fillstyle transparent solid 0.2 noborder title "
       << gnuplot_string(band.label + " (min to max)") << ", '-' using 1:2 with linespoints pt 7 "
       << "ps 0.9 lw 2.5 lc rgb '" << band_colour << "' title "
       << gnuplot_string(band.label + " (mean)");
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const double width = std::max(1.5, 3.5 - 0.6 * static_cast<double>(i));
      gp << fmt::format(
                ", '-' using 1:2 with linespoints dt {} pt {} ps {:.1f} lw {:.1f} lc rgb '{}'",
                kDashes[i % kDashes.size()], kMarkers[(i + 1) % kMarkers.size()],
                1.6 - 0.2 * static_cast<double>(i % 4), width,
                kLineColours[(i + 1) % kLineColours.size()])
         << " title " << gnuplot_string(lines[i].label);
    }
    gp << "\n";
    std::vector<std::tuple<double, double, double>> spread;
    for (std::size_t k = 0; k < x.size(); ++k) spread.emplace_back(x[k], band.low[k], band.high[k]);
    gp.send1d(spread);
    const std::vector<double> xs(x.begin(), x.end());
    gp.send1d(std::make_pair(xs, finite_or_gap(band.mean)));
    for (const Series& s : lines) gp.send1d(std::make_pair(xs, finite_or_gap(s.y)));
  });
}

PlotResult plot_confusion_matrix(const fs::path& path, std::string_view title,
                                 const std::vector<std::vector<std::int64_t>>& counts) {
  check_path(path, "plot_confusion_matrix");
  const std::size_t n = 10;  // digits
  if (counts.size() != n ||
      std::any_of(counts.begin(), counts.end(), [](const auto& row) { return row.size() != n; })) {
    throw std::invalid_argument("plot_confusion_matrix: counts must be 10x10");
  }
  std::vector<double> share(n * n);  // (10, 10) row-major, counts[t][p] / sum of row t
  using Cell = std::tuple<std::size_t, std::size_t, std::int64_t>;  // predicted, true, count
  std::vector<Cell> on_light, on_dark;
  for (std::size_t t = 0; t < n; ++t) {
    std::int64_t total = 0;
    for (std::int64_t c : counts[t]) {
      if (c < 0) throw std::invalid_argument("plot_confusion_matrix: negative count");
      total += c;
    }
    for (std::size_t p = 0; p < n; ++p) {
      const double s =
          total == 0 ? 0.0 : static_cast<double>(counts[t][p]) / static_cast<double>(total);
      share[t * n + p] = s;
      (s > 0.5 ? on_dark : on_light).emplace_back(p, t, counts[t][p]);
    }
  }
  return render(path, 760, 680, [&](Gnuplot& gp) {
    gp << "set title " << gnuplot_string(title) << " font ',14'\n"
       << "set xlabel 'predicted digit'\nset ylabel 'true digit'\n"
       << "set size ratio -1\nset xrange [-0.5:9.5]\nset yrange [9.5:-0.5]\n"
       << "set xtics 0,1,9 scale 0\nset ytics 0,1,9 scale 0\nunset key\n"
       << "set cbrange [0:1]\nset cblabel 'share of the true digit'\n"
       << "set palette defined (0 '#ffffff', 0.5 '#6baed6', 1 '#08306b')\n"
       << "plot " << binary_image(n, n) << " with image";
    // Dark text on light cells, white on dark ones.
    if (!on_light.empty()) gp << ", '-' using 1:2:3 with labels font ',11' tc rgb '#000000'";
    if (!on_dark.empty()) gp << ", '-' using 1:2:3 with labels font ',11' tc rgb '#ffffff'";
    gp << "\n";
    gp.sendBinary1d(share);
    if (!on_light.empty()) gp.send1d(on_light);
    if (!on_dark.empty()) gp.send1d(on_dark);
  });
}

PlotResult plot_weight_tiles(const fs::path& path, std::string_view title, const Tensor& W0) {
  check_path(path, "plot_weight_tiles");
  if (W0.rank() != 2 || W0.cols() != kDigitPixels || W0.rows() == 0) {
    throw std::invalid_argument(fmt::format("plot_weight_tiles: W0 has shape {}, expected (n, 784)",
                                            to_string(W0.shape())));
  }
  constexpr std::size_t kPerRow = 16, kGap = 2, kStride = kDigitSide + kGap;
  const std::size_t units = W0.rows();
  const std::size_t grid_cols = std::min(units, kPerRow);
  const std::size_t grid_rows = (units + kPerRow - 1) / kPerRow;
  const std::size_t cols = grid_cols * kStride - kGap, rows = grid_rows * kStride - kGap;
  std::vector<double> mosaic(cols * rows, std::nan(""));  // (rows, cols); NaN is the gap
  double lowest = W0[0], highest = W0[0];
  for (std::size_t u = 0; u < units; ++u) {
    double scale = 0.0;  // max |w| of this unit
    for (std::size_t k = 0; k < kDigitPixels; ++k) {
      const double w = W0(u, k);
      scale = std::max(scale, std::abs(w));
      lowest = std::min(lowest, w);
      highest = std::max(highest, w);
    }
    const std::size_t top = (u / kPerRow) * kStride, left = (u % kPerRow) * kStride;
    for (std::size_t i = 0; i < kDigitSide; ++i) {
      for (std::size_t j = 0; j < kDigitSide; ++j) {
        const double w = W0(u, i * kDigitSide + j);
        mosaic[(top + i) * cols + left + j] = std::isfinite(w) && scale > 0 ? w / scale : 0.0;
      }
    }
  }
  return render(path, 1100, 580, [&](Gnuplot& gp) {
    gp << "set title " << gnuplot_string(title) << " font ',14'\n"
       << "set xlabel "
       << gnuplot_string(fmt::format("{} units, one 28x28 tile each; every tile scaled to its own "
                                     "max |w|; all weights in [{:.3g}, {:.3g}]",
                                     units, lowest, highest))
       << "\n"
       << image_axes(cols, rows) << backdrop(cols, rows, "#909090")
       << "set cbrange [-1:1]\nset cblabel 'w / max |w| of the tile'\n"
       << "set palette defined (-1 '#2166ac', 0 '#ffffff', 1 '#b2182b')\n"
       << "plot " << binary_image(cols, rows) << " with image\n";
    gp.sendBinary1d(mosaic);
  });
}

PlotResult plot_digit_predictions(const fs::path& path, std::string_view title,
                                  const std::vector<DigitPrediction>& digits) {
  check_path(path, "plot_digit_predictions");
  if (digits.empty()) throw std::invalid_argument("plot_digit_predictions: no digits");
  for (const DigitPrediction& d : digits) {
    if (d.pixels.size() != kDigitPixels) {
      throw std::invalid_argument(fmt::format(
          "plot_digit_predictions: an image has {} pixels, expected 784", d.pixels.size()));
    }
  }
  // Each cell: a band for its title, then the 28x28 image; gaps between cells.
  constexpr std::size_t kPerRow = 10, kBand = 12, kGap = 4;
  constexpr std::size_t kCellWidth = kDigitSide + kGap, kCellHeight = kBand + kDigitSide + kGap;
  const std::size_t grid_cols = std::min(digits.size(), kPerRow);
  const std::size_t grid_rows = (digits.size() + kPerRow - 1) / kPerRow;
  const std::size_t cols = grid_cols * kCellWidth - kGap, rows = grid_rows * kCellHeight - kGap;
  std::vector<double> mosaic(cols * rows, std::nan(""));  // (rows, cols); NaN shows the paper
  std::string labels;
  std::size_t wrong = 0;
  for (std::size_t n = 0; n < digits.size(); ++n) {
    const DigitPrediction& d = digits[n];
    const std::size_t top = (n / kPerRow) * kCellHeight + kBand, left = (n % kPerRow) * kCellWidth;
    for (std::size_t i = 0; i < kDigitSide; ++i) {
      for (std::size_t j = 0; j < kDigitSide; ++j) {
        mosaic[(top + i) * cols + left + j] = d.pixels[i * kDigitSide + j];
      }
    }
    const bool right = d.predicted == d.label;
    wrong += right ? 0 : 1;
    const double x = static_cast<double>(left) + 13.5;
    labels += fmt::format("set label {} {} at {},{} center tc rgb '{}'\n", n + 1,
                          gnuplot_string(right ? fmt::format("{}", d.predicted)
                                               : fmt::format("{} (true {})", d.predicted, d.label)),
                          x, static_cast<double>(top) - 5.0, right ? "#000000" : "#d00000");
    if (!right) {  // a red frame around a wrong one
      labels += fmt::format(
          "set object {} rectangle from {},{} to {},{} front fillstyle empty border lc rgb "
          "'#d00000' lw 2\n",
          n + 2, static_cast<double>(left) - 1.0, static_cast<double>(top) - 1.0,
          static_cast<double>(left + kDigitSide), static_cast<double>(top + kDigitSide));
    }
  }
  // About 2.6 screen pixels per image pixel, plus room for the title.
  const int width = static_cast<int>(static_cast<double>(cols) * 2.6) + 60;
  const int height = static_cast<int>(static_cast<double>(rows) * 2.6) + 90;
  return render(path, std::max(width, 400), height, [&](Gnuplot& gp) {
    gp << "set title "
       << gnuplot_string(fmt::format("{} ({} of {} wrong, in red)", title, wrong, digits.size()))
       << " font ',14'\n"
       << image_axes(cols, rows) << "set margins 2,2,1,4\nunset colorbox\n"
       << "set cbrange [0:255]\nset palette defined (0 '#ffffff', 255 '#000000')\n"
       << labels << "plot " << binary_image(cols, rows) << " with image\n";
    gp.sendBinary1d(mosaic);
  });
}

PlotResult plot_decision_maps(const fs::path& path, std::string_view title,
                              const std::vector<PlaneMap>& maps, const Tensor& points,
                              std::span<const int> labels) {
  check_path(path, "plot_decision_maps");
  if (maps.empty() || points.rank() != 2 || points.rows() != 2 || points.cols() != labels.size()) {
    throw std::invalid_argument(
        "plot_decision_maps: need at least one map, and points (2, n) with n labels");
  }
  for (const PlaneMap& m : maps) {
    if (m.cols < 2 || m.rows < 2 || m.p.size() != m.cols * m.rows || !(m.x_max > m.x_min) ||
        !(m.y_max > m.y_min)) {
      throw std::invalid_argument(fmt::format(
          "plot_decision_maps: map '{}' needs a rectangle and cols x rows values", m.title));
    }
  }
  constexpr std::array<std::string_view, 2> kClassColours = {"#08306b", "#a50f15"};
  const std::size_t per_row = maps.size() == 4 ? 2 : std::min<std::size_t>(maps.size(), 3);
  const std::size_t panel_rows = (maps.size() + per_row - 1) / per_row;
  std::array<std::vector<double>, 2> xs, ys;  // the points of each class
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto c = static_cast<std::size_t>(labels[i] != 0);
    xs[c].push_back(points(0, i));
    ys[c].push_back(points(1, i));
  }
  const int width = static_cast<int>(per_row) * 420 + 20;
  const int height = static_cast<int>(panel_rows) * 330 + 60;
  return render(path, width, height, [&](Gnuplot& gp) {
    gp << fmt::format("set multiplot layout {},{} title {} font ',14'\n", panel_rows, per_row,
                      gnuplot_string(title))
       << "set palette defined (0 '#4a90d9', 0.5 '#ffffff', 1 '#f28e2b')\nset cbrange [0:1]\n"
       << "unset colorbox\nunset key\nset size ratio -1\nset tics out nomirror\n";
    for (const PlaneMap& m : maps) {
      const double dx = (m.x_max - m.x_min) / static_cast<double>(m.cols);
      const double dy = (m.y_max - m.y_min) / static_cast<double>(m.rows);
      gp << "set title " << gnuplot_string(m.title) << "\n"
         << fmt::format("set xrange [{}:{}]\nset yrange [{}:{}]\n", m.x_min, m.x_max, m.y_min,
                        m.y_max)
         << fmt::format(
                "plot '-' binary array=({},{}) dx={} dy={} origin=({},{}) format='%float64' "
                "with image",
                m.cols, m.rows, dx, dy, m.x_min + dx / 2, m.y_min + dy / 2);
      for (std::size_t c = 0; c < 2; ++c) {  // class 0 dark blue, class 1 dark red
        if (xs[c].empty()) continue;
        gp << ", '-' using 1:2 with points pt 7 ps 0.7 lc rgb '" << kClassColours[c] << "'";
      }
      gp << "\n";
      gp.sendBinary1d(m.p);
      for (std::size_t c = 0; c < 2; ++c) {
        if (!xs[c].empty()) gp.send1d(std::make_pair(xs[c], ys[c]));
      }
    }
    gp << "unset multiplot\n";
  });
}

}  // namespace stepgrad::cli
