// The tape's tracer (--trace) and step debugger (--step): every node printed as the sweeps
// compute it, and a pause after each one for a command read from stdin.
#pragma once

#include <string>
#include <string_view>

#include <stepgrad/autodiff/tape.hpp>
#include <stepgrad/cli/options.hpp>

namespace stepgrad::cli {

/// With --trace, prints every node of `tape` as it is computed (forward sweep) and as its
/// gradient is complete (backward sweep): its label and value (every value of a small tensor,
/// else shape, min, max, mean, norm, NaN/Inf), and in the backward sweep the op's rule with its
/// numbers (explain_backward), all with --precision digits.
/// --step (implies --trace) is a small debugger that stops after each node and reads a command
/// line from stdin: Enter = next node, p = print this node whole, b = run to the backward
/// sweep, c = continue to the end, q = quit (QuitRequested in program.hpp). End of input is
/// `c`, so a test can feed the keys on stdin.
void attach_tracer(Tape& tape, const CommonOptions& o);

/// Every line of `text` with `by` in front of it.
std::string indented(std::string_view text, std::string_view by);

}  // namespace stepgrad::cli
