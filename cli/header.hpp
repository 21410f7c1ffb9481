// The header a program prints first: its name, what it does, and the run's options, one per
// line, so that a printed run says how it was made (R20 in docs/reliability.md).
#pragma once

#include <CLI/CLI.hpp>

namespace stepgrad::cli {

/// "== 05_forward: one real MNIST image through the network ==" and the run's options, on one
/// line "options: name=value, ...", in the order the program declared them, defaults included.
void print_header(const CLI::App& app);

}  // namespace stepgrad::cli
