// Linear: the two ops of a layer with a bias.
#include <stepgrad/nn/linear.hpp>

#include <cmath>

#include <fmt/format.h>

namespace stepgrad {

Linear::Linear(std::size_t in, std::size_t out, RandomState& rng, std::string_view index)
    : W(fmt::format("W{}", index), std::sqrt(1.0 / static_cast<double>(in)) * rng.randn(out, in)),
      b(fmt::format("b{}", index), Tensor::zeros(out)) {}

Var Linear::operator()(Var O) {
  Tape& tape = O.tape();
  const Var w = tape.param(W);  // recorded in this order: W, then b
  const Var bias = tape.param(b);
  return add_to_columns(matmul(w, O), bias);
}

}  // namespace stepgrad
