// The programs' shared options and the checks of numbers.
#include <stepgrad/cli/options.hpp>

#include <charconv>
#include <cmath>
#include <exception>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/output_folder.hpp>

namespace stepgrad::cli {

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

CLI::Option* add_seed_option(CLI::App& app, std::uint32_t& seed) {
  return add_value(app, "--seed", seed, "np.random.seed for the initial weights");
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
  add_whole(app, "--precision", o.precision, "digits printed after the decimal point", 1, 17);
  if ((uses & kTrace) != 0u) {
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

void apply_print_options(const CommonOptions& o) {
  PrintOptions& p = default_print_options();
  p.summarise = !o.full;
  p.precision = o.precision;
}

}  // namespace stepgrad::cli
