// What every numbered tutorial shares: the common options (--seed, --sample, --full, --data,
// --precision, --trace, --step), one-line errors and exit codes for bad input (R20 in
// docs/reliability.md), the header that shows a run's options, and the step-by-step tape tracer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <stepgrad/autodiff/enum_names.hpp>
#include <stepgrad/autodiff/tape.hpp>
#include <stepgrad/autodiff/tensor.hpp>
#include <stepgrad/io/files.hpp>
#include <stepgrad/io/output_set.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad::tutorial {

struct CommonOptions {
  std::uint32_t seed = 42;          ///< np.random.seed for the weights (and shuffling)
  std::size_t sample = 0;           ///< which image
  bool full = false;                ///< print whole matrices, not summaries
  int precision = 4;                ///< digits printed after the point
  std::string data = "data/mnist";  ///< the MNIST folder
  bool trace = false;               ///< print each tape node as it is computed and differentiated
  bool step = false;                ///< the step debugger (implies --trace): attach_tracer
  std::string dot;                  ///< --dot FILE: draw the tape (write_dot); empty: none
};

/// Which common options a tutorial takes (the printing ones are always there).
enum Uses : unsigned {
  kSeed = 1u << 0,
  kSample = 1u << 1,
  kData = 1u << 2,
  kTrace = 1u << 3,
  kArticleSample = kSeed | kSample | kData | kTrace,  ///< tutorials 05-09: run_with_sample
  kNoFull = 1u << 4,  ///< leave out --full: the program prints no tensor that it could widen
};

/// Adds --full (unless kNoFull) and --precision, and the options in `uses`, bound to `o`.
void add_common_options(CLI::App& app, CommonOptions& o, unsigned uses);

/// An option whose value is one of an enum's names (EnumNames<E>): `--recipe article` sets
/// `value` to Recipe::article; the help and a wrong value list the names; the default shown is
/// value's name.
template <NamedEnum E>
CLI::Option* add_choice(CLI::App& app, const std::string& name, E& value, const std::string& help) {
  std::vector<std::string> names;
  for (const auto& entry : EnumNames<E>::values) names.emplace_back(entry.first);
  return app
      .add_option_function<std::string>(
          name, [&value, name](const std::string& text) { value = parse_enum<E>(text, name); },
          help)
      ->check(CLI::IsMember(names))
      ->default_str(std::string(to_string(value)));
}

/// Applies --full and --precision to the shared printer.
void apply_print_options(const CommonOptions& o);

/// "== 05_forward: one real MNIST image through the network ==" and the run's options, one
/// per line, so a printed run says how it was made (R20).
void print_header(const CLI::App& app);

/// With --trace, prints every node of `tape` as it is computed (forward sweep) and as its
/// gradient is complete (backward sweep): its label and value (every value of a small tensor,
/// else shape, min, max, mean, norm, NaN/Inf), and in the backward sweep the op's rule with its
/// numbers (explain_backward), all with --precision digits.
/// --step (implies --trace) is a small debugger that stops after each node and reads a command
/// line from stdin: Enter = next node, p = print this node whole, b = run to the backward
/// sweep, c = continue to the end, q = quit (QuitRequested). End of input is `c`, so a test can
/// feed the keys on stdin.
void attach_tracer(Tape& tape, const CommonOptions& o);

/// Every line of `text` with `by` in front of it.
std::string indented(std::string_view text, std::string_view by);

/// Thrown by the step debugger's `q`: run() ends the program there, with status 0.
struct QuitRequested {};

/// Adds --dot FILE (kept in o.dot): "write the tape as Graphviz DOT to FILE, and FILE with .png
/// beside it when graphviz is installed".
void add_dot_option(CLI::App& app, CommonOptions& o);

/// Writes `tape` as DOT to `file` (atomically, its folder created), then draws it to PNG beside
/// it with `dot -Tpng`. Prints "wrote FILE" on stdout and what came of the PNG on stderr (it
/// depends on the machine). Throws std::runtime_error with one line when FILE cannot be written.
void write_dot(Tape& tape, const std::string& file);

/// One image of the article's training split, as tutorials 05-09 use it.
struct ArticleSample {
  Tensor x;  ///< (784,) the pixels / 255: O0
  Tensor y;  ///< (10,) one-hot: Y
  int label = 0;
  std::size_t pool_index = 0;        ///< its place among MNIST's 70,000 images
  std::vector<std::uint8_t> pixels;  ///< (784,) 0..255, for ascii_digit
};
/// Loads the article's split from o.data and takes training sample o.sample; a missing folder
/// or a --sample past the end is an exception with a one-line message.
ArticleSample load_article_sample(const CommonOptions& o);

/// A 28x28 digit as text, two characters per pixel from " .:-=+*#%@" (brighter pixel, denser
/// character), each row between bars and prefixed by `indent`.
std::string ascii_digit(std::span<const std::uint8_t> pixels, std::string_view indent = "  ");

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

/// A number option's check: a plain decimal number (no spaces around it) from lo to hi, or the
/// one-line error "expected a whole number from 1 to 1000, found 'abc'".
CLI::Validator whole_number(double lo, double hi);
CLI::Validator real_number(double lo, double hi);

/// Creates the folder `dir` (given as option `option`) before any work, after checking its path
/// in the user's terms ("--out a/b: a is a file, not a folder"), and removes the temporary files
/// a killed run left there (R24). Throws std::runtime_error with one line.
void create_output_folder(const std::filesystem::path& dir, std::string_view option);

/// Gets the output folder `dir` (given as option `option`) ready before any long work (R26): an
/// OutputSet for the files named `owned` (Note [One set of outputs] in io/output_set.hpp), which
/// creates the folder, checks that it can be written and removes what killed runs left (R24).
/// Throws std::runtime_error with one line in the user's terms ("--out a/b: a is a file, not a
/// folder").
OutputSet open_output_set(const std::filesystem::path& dir, std::string_view option,
                          std::vector<std::string> owned);

/// The line to print for a file of `set` once it is committed: `message` (a plot's result) with
/// the staging path of `name` replaced by its final path in the output folder.
std::string final_message(const OutputSet& set, std::string_view name, std::string message);

/// Threads for a test-set pass (evaluate()): the machine's cores, at most 2 (each thread holds
/// about 12 MB of batches, and a pass takes 0.17 s on one core). Only speed depends on it:
/// evaluate() gives the same numbers on any number of threads.
std::size_t evaluation_threads();

/// A program's output written is part of its success (R25): stdout is flushed and checked;
/// returns `status`, or 1 with one line on stderr when stdout could not be written.
int finish_output(std::string_view program, int status);

/// Parses the command line and runs `body`. A bad flag or value, or any exception from body,
/// prints one line "NAME: error: ..." on stderr and exits non-zero (2 for usage, 1 otherwise);
/// --help prints the help and exits 0.
template <class Body>
int run(CLI::App& app, int argc, char** argv, Body body) {
  remove_temp_files_on_signal();  // Note [Interrupted saves] (io/files.hpp)
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "{}: error: {} (see --help)\n", app.get_name(), e.what());
    return 2;
  }
  int status = 1;
  try {
    status = body();
  } catch (const QuitRequested&) {
    status = 0;  // the step debugger's `q`
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: error: {}\n", app.get_name(), e.what());
    return 1;
  }
  return finish_output(app.get_name(), status);
}

/// How tutorials 05-09 begin, once: run() with a body that first applies --full and
/// --precision, loads sample --sample of the article's split, prints the header, initialises
/// the network with --seed, then calls body(sample, net). `opts` needs kArticleSample.
template <class Body>
int run_with_sample(CLI::App& app, CommonOptions& opts, int argc, char** argv, Body body) {
  return run(app, argc, argv, [&] {
    apply_print_options(opts);
    const ArticleSample sample = load_article_sample(opts);
    print_header(app);
    Network net(NetworkOptions{.seed = opts.seed});
    return body(sample, net);
  });
}

}  // namespace stepgrad::tutorial
