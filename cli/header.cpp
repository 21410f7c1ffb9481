// The header a program prints first.
#include <stepgrad/cli/header.hpp>

#include <string>

#include <fmt/format.h>

namespace stepgrad::cli {

void print_header(const CLI::App& app) {
  fmt::print("== {}: {} ==\n", app.get_name(), app.get_description());
  std::string options = app.config_to_str(true, false);  // "name=value" lines, defaults too
  if (!options.empty()) {
    if (options.back() == '\n') options.pop_back();
    fmt::print("options: {}\n", fmt::join(CLI::detail::split(options, '\n'), ", "));
  }
  fmt::print("\n");
}

}  // namespace stepgrad::cli
