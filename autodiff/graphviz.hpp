// Graphviz DOT for a tape: one box per node with its label, value summary and (after backward)
// gradient summary, one edge per input, so `dot -Tpng` draws a recorded forward pass.
#pragma once

#include <string>

#include <stepgrad/autodiff/tape.hpp>

namespace stepgrad {

/// The tape as a Graphviz digraph, data flowing top to bottom: data leaves grey, Parameters
/// gold, ops white; each node shows its label ("Z1 = W0 · O0"), index and op, value summary,
/// and gradient summary when one has been accumulated. Reads gradients without creating any.
std::string to_dot(Tape& tape);

}  // namespace stepgrad
