// The programs' options: each option a program shares declared once, with its help text and
// its check, and the checks of numbers, so that a bad value ends in one line in the user's
// terms (R20, R29 in docs/reliability.md). A program's own options use the same helpers, one
// line each.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>

#include <stepgrad/autodiff/enum_names.hpp>

namespace stepgrad::cli {

/// A number option's check: a plain decimal number from lo to hi, or the one-line error
/// "expected a whole number from 1 to 1000, found 'abc'" (R29, R35). A whole number is digits,
/// perhaps after a '-' (no '+', spaces, 0x, point or exponent: "", "+7", " 7", "0x2A" are
/// refused) and is recorded as the number it holds ("007" as 7); a real number is what
/// std::from_chars reads whole, finite.
CLI::Validator whole_number(double lo, double hi);
CLI::Validator real_number(double lo, double hi);

/// The largest seed numpy takes: np.random.seed(2**32 - 1).
inline constexpr double kLargestSeed = 4294967295.0;

/// An option whose default --help shows: `--model FILE`, "(default: out/model.npz)". Not for
/// numbers: they take add_whole or add_real, whose checks give the one-line error, where CLI11's
/// own conversion would take "0x2A", "+7", " 7" or "" (as 0) and say "Could not convert".
template <class T>
CLI::Option* add_value(CLI::App& app, const std::string& name, T& value, const std::string& help) {
  static_assert(!std::is_arithmetic_v<T>, "a number option: add_whole or add_real");
  return app.add_option(name, value, help)->capture_default_str();
}

/// A whole-number option from lo to hi (whole_number), its default shown.
template <class T>
CLI::Option* add_whole(CLI::App& app, const std::string& name, T& value, const std::string& help,
                       double lo, double hi) {
  CLI::Option* option = app.add_option(name, value, help)->check(whole_number(lo, hi), "whole");
  // The check rewrites the text ("007" as "7"), which CLI11 keeps only from a modifying one
  // (what transform() adds; check() marks its validator non-modifying).
  option->get_validator("whole")->non_modifying(false);
  return option->capture_default_str();
}

/// A number option from lo to hi (real_number), its default shown.
template <class T>
CLI::Option* add_real(CLI::App& app, const std::string& name, T& value, const std::string& help,
                      double lo, double hi) {
  return app.add_option(name, value, help)->check(real_number(lo, hi))->capture_default_str();
}

/// A list of `count` numbers from lo to hi separated by commas, `--inputs 0.5,0.1,0` (no
/// spaces), each read as real_number reads one, or the one-line error "expected 3 numbers from
/// -100 to 100 separated by commas, found '0.5,x'". Its default, shown by --help and recorded in
/// the options line, is `values` as given.
CLI::Option* add_real_list(CLI::App& app, const std::string& name, std::vector<double>& values,
                           const std::string& help, std::size_t count, double lo, double hi);

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

// ---- The shared groups ----

/// --seed: np.random.seed for the initial weights.
CLI::Option* add_seed_option(CLI::App& app, std::uint32_t& seed);

/// --data DIR, the MNIST folder; `help` defaults to the tutorials' "folder with the four MNIST
/// files (see scripts/fetch-mnist)".
CLI::Option* add_data_option(
    CLI::App& app, std::string& dir,
    const std::string& help = "folder with the four MNIST files (see scripts/fetch-mnist)");

/// Where a program writes its files (--out) and whether it draws its pictures (--no-plots).
struct OutputOptions {
  std::string dir = "out";
  bool no_plots = false;
};

/// --out DIR ("folder for FILES", `files` naming what goes there) and, unless `no_plots_help`
/// is empty, --no-plots with that help ("skip the PNG plots").
void add_output_options(CLI::App& app, OutputOptions& o, const std::string& files,
                        const std::string& no_plots_help = "skip the PNG plots");

/// How a printed tensor looks (--full, --precision, --digits) and what the step tutorials show of
/// their tape (--trace, --step, --dot), with the article's sample and seed.
struct CommonOptions {
  std::uint32_t seed = 42;          ///< np.random.seed for the weights (and shuffling)
  std::size_t sample = 0;           ///< which image
  bool full = false;                ///< print whole matrices, not summaries
  int precision = 4;                ///< digits printed after the point of each value
  int digits = 4;                   ///< significant digits of a summary (min, max, mean, norm)
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

/// Adds --full (unless kNoFull) and --precision, and the options in `uses`, bound to `o`:
/// --seed, --sample, --data, --full, --precision, then with kTrace --digits (the summaries a
/// trace prints), --trace, --step, --dot, in that order.
void add_common_options(CLI::App& app, CommonOptions& o, unsigned uses);

/// The check of an option naming a file the program writes (--dot, --dump, --predictions):
/// output_file_problem (cli/output_folder.hpp) while the options are read, so that a file that
/// cannot be saved fails before any work, in one line naming the option and the path, and
/// creates nothing (R36). `folder_made`: its folder may be missing, the save makes it (--dot).
/// An empty value, no file, passes.
CLI::Validator output_file(bool folder_made);

/// Adds --dot FILE (kept in o.dot): "write the tape as Graphviz DOT to FILE, and FILE with .png
/// beside it when graphviz is installed". Checked while the options are read (output_file); its
/// folder is made when the file is written (write_dot).
void add_dot_option(CLI::App& app, CommonOptions& o);

/// Applies --full, --precision and --digits to the shared printer.
void apply_print_options(const CommonOptions& o);

}  // namespace stepgrad::cli
