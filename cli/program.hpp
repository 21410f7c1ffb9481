// How a program runs: its command line parsed, its body run, and every failure one line on
// stderr with an exit code (R20 in docs/reliability.md): 2 for usage, 1 otherwise, 0 for --help
// and for the step debugger's `q`; its output written is part of its success (R25).
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <stepgrad/cli/plots.hpp>
#include <stepgrad/io/files.hpp>

namespace stepgrad::cli {

/// Thrown by the step debugger's `q` (attach_tracer): run() ends the program there, with
/// status 0.
struct QuitRequested {};

/// A program's output written is part of its success (R25): stdout is flushed and checked;
/// returns `status`, or 1 with one line on stderr when stdout could not be written.
int finish_output(std::string_view program, int status);

/// Threads for a test-set pass (evaluate()): the machine's cores, at most 2 (each thread holds
/// about 12 MB of batches, and a pass takes 0.17 s on one core). Only speed depends on it:
/// evaluate() gives the same numbers on any number of threads.
std::size_t evaluation_threads();

/// How much memory a program may still take, and what sets that bound (R38).
struct MemoryRoom {
  std::uint64_t bytes = 0;
  std::string limit;  ///< "available on this machine", "left under ulimit -v", ...
};
/// The least of: MemAvailable in /proc/meminfo (the machine's), what the program's cgroup
/// (v2, memory.max) still allows, and what its limits on address space and data (ulimit -v,
/// ulimit -d) leave above what it uses now. A bound it cannot read counts as none.
MemoryRoom memory_room();

/// Refuses, before any allocation, a run whose sizes need more memory than memory_room() leaves:
/// std::runtime_error in one line, "SIZES need about 14.7 GB of memory, more than the 2.9 GB
/// available on this machine; choose smaller sizes" (`sizes`: the options that set them).
void check_memory(std::uint64_t bytes, std::string_view sizes);

/// The one line for a value CLI11 could not convert, in the words of the project's other errors
/// ("--full: expected no value, true or false, found 'abc'"), never CLI11's "Could not convert"
/// (R35). Numbers never get here: their checks (whole_number, real_number) come first.
std::string conversion_message(const CLI::App& app, const CLI::ConversionError& e);

/// Parses the command line and runs `body`. A bad flag or value, or any exception from body,
/// prints one line "NAME: error: ..." on stderr and exits non-zero (2 for usage, 1 otherwise);
/// --help prints the help and exits 0 (1, in one line, when it cannot be written: R25).
template <class Body>
int run(CLI::App& app, int argc, char** argv, Body body) {
  remove_temp_files_on_signal();  // Note [Interrupted saves] (io/files.hpp)
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return finish_output(app.get_name(), app.exit(e));  // a help that cannot be written fails
  } catch (const CLI::CallForAllHelp& e) {
    return finish_output(app.get_name(), app.exit(e));
  } catch (const CLI::ConversionError& e) {
    fmt::print(stderr, "{}: error: {} (see --help)\n", app.get_name(), conversion_message(app, e));
    return 2;
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "{}: error: {} (see --help)\n", app.get_name(), e.what());
    return 2;
  }
  int status = 1;
  try {
    (void)picture_time_limit();  // a bad STEPGRAD_PLOT_TIMEOUT fails before the work
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

}  // namespace stepgrad::cli
