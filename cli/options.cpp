// The programs' shared options and the checks of numbers.
#include <stepgrad/cli/options.hpp>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/output_folder.hpp>

namespace stepgrad::cli {

namespace {

// The check of whole_number and real_number: text a plain number, within [lo, hi]. A whole
// number is decimal digits, perhaps after a '-': no '+', no spaces, no 0x, no point or exponent,
// which CLI11's conversion (strtoull, base 0) would read otherwise ("010" as 8) or turn into its
// own "Could not convert" error. The text is then rewritten as the number it holds ("007" as "7"),
// so that what the header and a model's options line record is what ran.
CLI::Validator number_check(double lo, double hi, bool whole) {
  // The bounds as the messages and --help show them: 4294967295, not 4.29497e+09.
  const auto shown = [whole](double bound) {
    return whole ? fmt::format("{}", static_cast<std::int64_t>(bound)) : fmt::format("{:g}", bound);
  };
  const std::string kind = whole ? "a whole number" : "a number";
  const std::string range = fmt::format("from {} to {}", shown(lo), shown(hi));
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const auto wrong = [&] {
          return fmt::format("expected {} {}, found '{}'", kind, range, text);
        };
        const char* end = text.data() + text.size();
        if (whole) {
          const bool digits =
              !text.empty() &&
              text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) == std::string::npos;
          std::int64_t v = 0;
          const auto [ptr, ec] = std::from_chars(text.data(), end, v);
          if (!digits || ec != std::errc() || ptr != end) return wrong();
          if (static_cast<double>(v) < lo || static_cast<double>(v) > hi) return wrong();
          text = std::to_string(v);
          return "";
        }
        double v = 0.0;
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return wrong();
        if (v < lo || v > hi) return wrong();
        return "";
      },
      fmt::format("{}:{}-{}", whole ? "INT" : "NUMBER", shown(lo), shown(hi)));
}

}  // namespace

CLI::Validator whole_number(double lo, double hi) { return number_check(lo, hi, true); }
CLI::Validator real_number(double lo, double hi) { return number_check(lo, hi, false); }

CLI::Option* add_real_list(CLI::App& app, const std::string& name, std::vector<double>& values,
                           const std::string& help, std::size_t count, double lo, double hi) {
  const CLI::Validator one = real_number(lo, hi);
  // The pieces of "0.5,0.1,0" that are numbers from lo to hi, or nothing when one is not or
  // when there are not `count` of them.
  const auto read = [one, count](const std::string& text) -> std::optional<std::vector<double>> {
    std::vector<double> out;
    for (std::string piece : CLI::detail::split(text, ',')) {
      if (!one(piece).empty()) return std::nullopt;
      double v = 0.0;
      std::from_chars(piece.data(), piece.data() + piece.size(), v);
      out.push_back(v);
    }
    if (out.size() != count) return std::nullopt;
    return out;
  };
  const std::string shown = fmt::format("{}", fmt::join(values, ","));
  return app
      .add_option_function<std::string>(
          name, [&values, read](const std::string& text) { values = *read(text); }, help)
      ->check(CLI::Validator(
          [=](const std::string& text) -> std::string {
            if (read(text)) return "";
            return fmt::format(
                "expected {} numbers from {:g} to {:g} separated by commas, "
                "found '{}'",
                count, lo, hi, text);
          },
          fmt::format("NUMBER,... ({} of them, {:g} to {:g})", count, lo, hi)))
      ->default_str(shown);
}

CLI::Option* add_seed_option(CLI::App& app, std::uint32_t& seed) {
  return add_whole(app, "--seed", seed, "np.random.seed for the initial weights", 0, kLargestSeed);
}

CLI::Option* add_data_option(CLI::App& app, std::string& dir, const std::string& help) {
  return add_value(app, "--data", dir, help);
}

void add_output_options(CLI::App& app, OutputOptions& o, const std::string& files,
                        const std::string& no_plots_help) {
  add_value(app, "--out", o.dir, "folder for " + files);
  if (!no_plots_help.empty()) app.add_flag("--no-plots", o.no_plots, no_plots_help);
}

void add_common_options(CLI::App& app, CommonOptions& o, unsigned uses) {
  if ((uses & kSeed) != 0u) add_seed_option(app, o.seed);
  if ((uses & kSample) != 0u) {
    add_whole(app, "--sample", o.sample, "which training image (index in the article's split)", 0,
              48999);  // the article's training split: 49,000 images
  }
  if ((uses & kData) != 0u) add_data_option(app, o.data);
  if ((uses & kNoFull) == 0u)
    app.add_flag("--full", o.full, "print whole matrices instead of numpy-style summaries");
  add_whole(app, "--precision", o.precision,
            "digits printed after the decimal point of each value (of the mantissa in 1.2e-05)", 1,
            17);
  if ((uses & kTrace) != 0u) {
    add_whole(app, "--digits", o.digits,
              "significant digits of a summary: the min, max, mean and norm printed for a tensor "
              "too large to show whole",
              1, 17);
    CLI::Option* trace =
        app.add_flag("--trace", o.trace,
                     "print each tape node as the sweeps compute it, with its backward rule");
    app.add_flag("--step", o.step,
                 "step through the sweeps (implies --trace): Enter next node, p print it whole, "
                 "b run to backward, c continue, q quit")
        ->each([&o, trace](const std::string&) {
          // --step implies --trace, and the options line says so (trace=true)
          if (trace->count() == 0) trace->add_result("true");
          o.trace = true;
        });
    add_dot_option(app, o);
  }
}

CLI::Validator output_file(bool folder_made) {
  return CLI::Validator(
      [folder_made](const std::string& text) -> std::string {
        if (text.empty()) return "";  // none
        const std::string why = output_file_problem(text, folder_made);
        return why.empty() ? "" : fmt::format("{}: {}", text, why);
      },
      "FILE");
}

void add_dot_option(CLI::App& app, CommonOptions& o) {
  app.add_option("--dot", o.dot,
                 "write the tape as Graphviz DOT to FILE (and FILE's .png beside it when "
                 "graphviz is installed)")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            // The picture goes to FILE with .png: a FILE.png would be overwritten by it.
            if (std::filesystem::path(text).extension() == ".png")
              return "names the picture; give the DOT file (x.dot)";
            return "";
          },
          ""))
      ->check(output_file(true))  // its folder is made when it is written (write_dot)
      ->capture_default_str();
}

void apply_print_options(const CommonOptions& o) {
  PrintOptions& p = default_print_options();
  p.summarise = !o.full;
  p.precision = o.precision;
  p.digits = o.digits;
}

}  // namespace stepgrad::cli
