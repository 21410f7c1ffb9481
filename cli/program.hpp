// How a program runs: its command line parsed, its body run, and every failure one line on
// stderr with an exit code (R20 in docs/reliability.md): 2 for usage, 1 otherwise, 0 for --help
// and for the step debugger's `q`; its output written is part of its success (R25).
#pragma once

#include <cstdio>
#include <exception>
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
