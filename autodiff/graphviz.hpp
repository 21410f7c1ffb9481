// Graphviz DOT for a tape: one box per node with its label, value and (after backward)
// gradient, one edge per input, so `dot -Tpng` draws a recorded forward pass.
#pragma once

#include <string>

#include <stepgrad/autodiff/tape.hpp>

namespace stepgrad {

/// The tape as a Graphviz digraph, data flowing top to bottom: data leaves grey, Parameters
/// gold, ops white; each node shows its label ("Z1 = W0 · O0"), index and op, its value, and its
/// gradient when one has been accumulated, with the step at which the backward sweep reached it
/// (1 for the loss). A small tensor (print.hpp's kSmallTensor) shows every value, a larger one a
/// summary. Reads gradients without creating any.
std::string to_dot(Tape& tape);

}  // namespace stepgrad
