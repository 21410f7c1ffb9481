// Lab 05, a solution (docs/labs.md): the network of labs/05_find_the_bug.cpp with its one wrong
// rule fixed. tanh_op's rule said d tanh(x) = (1 - tanh(x)) dx; tanh's derivative is
// 1 - tanh(x)², in the code, in the rule's words and in its numbers.
#include <cmath>

#include <stepgrad/autodiff/op_helpers.hpp>

#include "labs.hpp"

namespace stepgrad::labs {

// y = log(1 + e^x), written without overflow: max(x, 0) + log1p(e^-|x|).
Var softplus_op(Var x) {
  record_map(x, [](double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))); });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& xv = tape.node(out.a).value();
    // d softplus(x) = sigmoid(x) dx
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * fn::sigmoid(xv[i]); });
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int) -> RuleNumbers {
    const Tensor local = map(tape.node(out.a).value(), [](double v) { return fn::sigmoid(v); });
    return {"{0} ⊙ {1}", {out.grad(), local}, hadamard(out.grad(), local)};
  };
  static constexpr OpDef op{.name = "softplus_op",
                            .backward = backward,
                            .rule = {"grad {a} += grad {out} ⊙ sigmoid({a})"},
                            .numbers = numbers};
  return x.tape().commit(op);
}

// y = tanh(x)
Var tanh_op(Var x) {
  record_map(x, [](double v) { return fn::tanh(v); });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& y = out.value();
    // d tanh(x) = (1 - tanh(x)²) dx
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * (1.0 - y[i] * y[i]); });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    const Tensor local = map(out.value(), [](double v) { return 1.0 - v * v; });
    return {"{0} ⊙ {1}", {out.grad(), local}, hadamard(out.grad(), local)};
  };
  static constexpr OpDef op{.name = "tanh_op",
                            .backward = backward,
                            .rule = {"grad {a} += grad {out} ⊙ (1 - {out}²)"},
                            .numbers = numbers};
  return x.tape().commit(op);
}

}  // namespace stepgrad::labs
