// The tape as a picture (--dot FILE): its DOT text saved, then drawn to PNG beside it by
// graphviz's `dot`, run as a child process. (The option itself: add_dot_option in options.hpp.)
#pragma once

#include <string>

#include <stepgrad/autodiff/tape.hpp>

namespace stepgrad::cli {

/// Writes `tape` as DOT to `file` (atomically, its folder created), then draws it to PNG beside
/// it with `dot -Tpng`, saved atomically too. Prints "wrote FILE" on stdout and what came of the
/// PNG on stderr (it depends on the machine). Throws std::runtime_error with one line when FILE
/// cannot be written, when dot runs past picture_time_limit() (plots.hpp), and when the disk is
/// too full for the PNG.
void write_dot(Tape& tape, const std::string& file);

}  // namespace stepgrad::cli
