// The tutorials' shared options, header and tracer.
#include "common.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <stepgrad/autodiff/graphviz.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/io/process.hpp>

namespace stepgrad::tutorial {

namespace {

// The check of whole_number and real_number: text a plain number, within [lo, hi].
CLI::Validator number_check(double lo, double hi, bool whole) {
  const std::string kind = whole ? "a whole number" : "a number";
  return CLI::Validator(
      [=](const std::string& text) -> std::string {
        const auto wrong = [&] {
          return fmt::format("expected {} from {:g} to {:g}, found '{}'", kind, lo, hi, text);
        };
        double v = 0.0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return wrong();
        if (whole && v != std::floor(v)) return wrong();
        if (v < lo || v > hi) return wrong();
        return "";
      },
      fmt::format("{}:{:g}-{:g}", whole ? "INT" : "NUMBER", lo, hi));
}

}  // namespace

CLI::Validator whole_number(double lo, double hi) { return number_check(lo, hi, true); }
CLI::Validator real_number(double lo, double hi) { return number_check(lo, hi, false); }

namespace {
// The checks of an output folder's path, in the user's terms (create_output_folder).
void check_output_path(const std::filesystem::path& dir, std::string_view option) {
  namespace fs = std::filesystem;
  // The path as a message may show it: on one line, a control character written as \n or \xNN.
  std::string shown;
  for (const char c : dir.string()) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20) {
      shown += c;
    } else {
      shown += c == '\n' ? std::string("\\n") : fmt::format("\\x{:02x}", u);
    }
  }
  const auto fail = [&](std::string_view why) {
    throw std::runtime_error(fmt::format("{} {}: {}", option, shown, why));
  };
  if (shown.empty()) fail("names no folder");
  if (shown != dir.string()) fail("holds a control character; name the folder without one");
  // The first part of the path that is not a folder says what is wrong, in plain words.
  fs::path prefix;
  for (const fs::path& part : dir) {
    prefix /= part;
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(prefix, ec);
    if (fs::is_symlink(st) && !fs::exists(prefix, ec)) {
      fail(fmt::format("{} is a link to nothing (a dangling symlink)", prefix.string()));
    }
    if (fs::exists(prefix, ec) && !fs::is_directory(prefix, ec)) {
      fail(fmt::format("{} is a file, not a folder", prefix.string()));
    }
  }
}
}  // namespace

void create_output_folder(const std::filesystem::path& dir, std::string_view option) {
  check_output_path(dir, option);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("{} {}: cannot create the folder: {}", option, dir.string(), ec.message()));
  }
  remove_stale_temp_files(dir);
}

OutputSet open_output_set(const std::filesystem::path& dir, std::string_view option,
                          std::vector<std::string> owned) {
  check_output_path(dir, option);  // OutputSet creates the folder and cleans up after killed runs
  try {
    return OutputSet(dir, std::move(owned));
  } catch (const FileError& e) {
    throw std::runtime_error(fmt::format("{} {}: {}", option, dir.string(), e.why()));
  }
}

std::string final_message(const OutputSet& set, std::string_view name, std::string message) {
  const std::string staged = set.path(name).string();
  const std::string final_path = (set.dir() / name).string();
  for (std::size_t at = message.find(staged); at != std::string::npos;
       at = message.find(staged, at + final_path.size())) {
    message.replace(at, staged.size(), final_path);
  }
  return message;
}

std::size_t evaluation_threads() {
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 2);
}

int finish_output(std::string_view program, int status) {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    const int err = errno;
    fmt::print(stderr, "{}: error: cannot write the output: {}\n", program,
               err != 0 ? errno_text(err) : std::string("write error"));
    return 1;
  }
  return status;
}

void add_common_options(CLI::App& app, CommonOptions& o, unsigned uses) {
  if ((uses & kSeed) != 0u) {
    app.add_option("--seed", o.seed, "np.random.seed for the initial weights")
        ->capture_default_str();
  }
  if ((uses & kSample) != 0u) {
    app.add_option("--sample", o.sample, "which training image (index in the article's split)")
        ->check(whole_number(0, 48999))  // the article's training split: 49,000 images
        ->capture_default_str();
  }
  if ((uses & kData) != 0u) {
    app.add_option("--data", o.data, "folder with the four MNIST files (see scripts/fetch-mnist)")
        ->capture_default_str();
  }
  if ((uses & kNoFull) == 0u)
    app.add_flag("--full", o.full, "print whole matrices instead of numpy-style summaries");
  app.add_option("--precision", o.precision, "digits printed after the decimal point")
      ->check(whole_number(1, 17))
      ->capture_default_str();
  if ((uses & kTrace) != 0u) {
    app.add_flag("--trace", o.trace,
                 "print each tape node as the sweeps compute it, with its backward rule");
    app.add_flag("--step", o.step,
                 "step through the sweeps (implies --trace): Enter next node, p print it whole, "
                 "b run to backward, c continue, q quit");
    add_dot_option(app, o);
  }
}

void add_dot_option(CLI::App& app, CommonOptions& o) {
  app.add_option("--dot", o.dot,
                 "write the tape as Graphviz DOT to FILE (and FILE's .png beside it when "
                 "graphviz is installed)")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            const std::filesystem::path p(text);
            if (!p.has_filename() || std::filesystem::is_directory(p))
              return "names a folder, not a file";
            // The picture goes to FILE with .png: a FILE.png would be overwritten by it.
            if (p.extension() == ".png") return "names the picture; give the DOT file (x.dot)";
            // Its folder is made now, before any work, so a bad --dot fails at once.
            try {
              if (p.has_parent_path()) create_output_folder(p.parent_path(), "--dot's folder");
            } catch (const std::exception& e) {
              return e.what();
            }
            return "";
          },
          "FILE"))
      ->capture_default_str();
}

namespace {
// Runs `dot -Tpng -o png dot_file`; returns one line saying what came of it.
std::string render_png(const std::filesystem::path& dot_file, const std::filesystem::path& png) {
  const std::string dot_path = dot_file.string(), png_path = png.string();
  const Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  ChildProcess dot("dot", {"-Tpng", "-o", png_path, dot_path}, null.get(), null.get());
  if (dot.error() == ENOENT)
    return fmt::format("{} not drawn: graphviz is not installed (apt-get install graphviz)",
                       png_path);
  if (dot.error() != 0)
    return fmt::format("{} not drawn: cannot run dot: {}", png_path, errno_text(dot.error()));
  const int status = dot.wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !std::filesystem::exists(png))
    return fmt::format("{} not drawn: dot failed ({})", png_path, describe_status(status));
  return fmt::format("wrote {} (dot -Tpng {} -o {})", png_path, dot_path, png_path);
}
}  // namespace

void write_dot(Tape& tape, const std::string& file) {
  const std::filesystem::path dot_path(file);
  if (dot_path.has_parent_path()) create_output_folder(dot_path.parent_path(), "--dot's folder");
  write_file_atomic(dot_path, to_dot(tape));  // never a half-written file (R16)
  std::size_t edges = 0;
  for (std::size_t i = 0; i < tape.size(); ++i)
    edges += (tape.node(i).a != Node::kNone ? 1u : 0u) + (tape.node(i).b != Node::kNone ? 1u : 0u);
  fmt::print("  wrote {}: {} nodes, {} edges, each node with its value and gradient\n", file,
             tape.size(), edges);
  // Whether graphviz is installed depends on the machine: that line goes to stderr, so the
  // lesson on stdout is the same everywhere (tests/golden/).
  std::fflush(stdout);
  fmt::print(stderr, "  {}\n",
             render_png(dot_path, std::filesystem::path(dot_path).replace_extension(".png")));
}

void apply_print_options(const CommonOptions& o) {
  PrintOptions& p = default_print_options();
  p.summarise = !o.full;
  p.precision = o.precision;
}

void print_header(const CLI::App& app) {
  fmt::print("== {}: {} ==\n", app.get_name(), app.get_description());
  std::string options = app.config_to_str(true, false);  // "name=value" lines, defaults too
  if (!options.empty()) {
    if (options.back() == '\n') options.pop_back();
    fmt::print("options: {}\n", fmt::join(CLI::detail::split(options, '\n'), ", "));
  }
  fmt::print("\n");
}

namespace {

// The step debugger of --step: where it stops next, and its commands (attach_tracer).
class Stepper {
 public:
  explicit Stepper(bool on) : mode_(on ? Mode::each_node : Mode::off) {}

  // Called after node i was traced; reads commands until one moves on.
  void stop(Tape& t, std::size_t i, Sweep sweep) {
    if (mode_ == Mode::off) return;
    if (mode_ == Mode::to_backward && sweep == Sweep::Forward) return;
    mode_ = Mode::each_node;
    const bool terminal = isatty(STDIN_FILENO) != 0;
    for (;;) {
      fmt::print("[step] Enter next, p print, b to backward, c continue, q quit> ");
      std::fflush(stdout);
      std::string line;
      if (!std::getline(std::cin, line)) {  // end of input: continue to the end
        fmt::print("(end of input: continue)\n");
        mode_ = Mode::off;
        return;
      }
      if (!terminal) fmt::print("{}\n", line);  // a transcript shows what was typed
      const std::string command = trim(line);
      if (command.empty()) return;
      if (command == "p") {
        print_whole(t, i, sweep);
      } else if (command == "b") {
        if (sweep == Sweep::Forward) {
          mode_ = Mode::to_backward;
          return;
        }
        fmt::print("[step] already in the backward sweep\n");
        return;
      } else if (command == "c") {
        mode_ = Mode::off;
        return;
      } else if (command == "q") {
        fmt::print("[step] quit\n");
        throw QuitRequested{};
      } else {
        fmt::print("[step] unknown command '{}': Enter, p, b, c or q\n", command);
      }
    }
  }

 private:
  enum class Mode : std::uint8_t { off, each_node, to_backward };

  static std::string trim(const std::string& s) {
    const std::size_t first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
  }

  static void print_whole(Tape& t, std::size_t i, Sweep sweep) {
    PrintOptions whole = default_print_options();
    whole.summarise = false;
    Node& n = t.node(i);
    fmt::print("{}\n", show(t.name_of(i), n.value(), whole));
    if (sweep == Sweep::Backward) fmt::print("{}\n", show("grad " + t.name_of(i), n.grad(), whole));
  }

  Mode mode_;
};

}  // namespace

std::string indented(std::string_view text, std::string_view by) {
  std::string out{by};
  for (char c : text) {
    out += c;
    if (c == '\n') out += by;
  }
  return out;
}

void attach_tracer(Tape& tape, const CommonOptions& o) {
  if (!o.trace && !o.step) return;
  auto stepper = std::make_shared<Stepper>(o.step);
  tape.set_observer([stepper](Tape& t, std::size_t i, Sweep sweep) {
    Node& n = t.node(i);
    if (sweep == Sweep::Forward) {
      fmt::print("[trace] forward  {:>3}  {:<36} {}\n", i, t.label(i), describe(n.value()));
    } else {
      fmt::print("[trace] backward {:>3}  {:<36} grad {}\n", i, t.label(i), describe(n.grad()));
      const std::string rules = explain_backward(t, i);  // one line per input
      if (!rules.empty()) fmt::print("{}\n", indented(rules, "[trace]              "));
    }
    stepper->stop(t, i, sweep);
  });
}

ArticleSample load_article_sample(const CommonOptions& o) {
  const Split split = load_split(o.data, SplitKind::article);
  if (o.sample >= split.train.size()) {
    throw std::out_of_range(
        fmt::format("--sample {}: the article's training split has {} images, 0 to {}", o.sample,
                    split.train.size(), split.train.size() - 1));
  }
  ArticleSample s;
  split.train.input(o.sample, s.x);
  split.train.one_hot(o.sample, s.y);
  s.label = split.train.label(o.sample);
  s.pool_index = split.train.index(o.sample);
  const auto px = split.train.pixels(o.sample);
  s.pixels.assign(px.begin(), px.end());
  return s;
}

std::string ascii_digit(std::span<const std::uint8_t> pixels, std::string_view indent) {
  constexpr std::string_view kRamp = " .:-=+*#%@";
  constexpr std::size_t kSide = 28;
  std::string out;
  for (std::size_t r = 0; r < kSide; ++r) {
    out += indent;
    out += '|';
    for (std::size_t c = 0; c < kSide; ++c)
      out.append(2, kRamp[pixels[r * kSide + c] * kRamp.size() / 256]);
    out += "|\n";
  }
  return out;
}

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

}  // namespace stepgrad::tutorial
