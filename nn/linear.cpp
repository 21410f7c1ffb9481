// Linear: the two ops of a layer with a bias.
#include <stepgrad/nn/linear.hpp>

#include <fmt/format.h>

#include <stepgrad/nn/network.hpp>

namespace stepgrad {

Linear::Linear(std::size_t in, std::size_t out, RandomState& rng, std::string_view index)
    : W(fmt::format("W{}", index), init_weight(rng, out, in, InitScale::fan_in)),
      b(fmt::format("b{}", index), Tensor::zeros(out)) {}

Var Linear::operator()(Var O) {
  Tape& tape = O.tape();
  const Var w = tape.param(W);  // recorded in this order: W, then b
  const Var bias = tape.param(b);
  return add_to_columns(matmul(w, O), bias);
}

}  // namespace stepgrad
