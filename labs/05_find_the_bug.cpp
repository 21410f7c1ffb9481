// Lab 05: find the bug (docs/labs.md). Two ops, written as the engine's are, make a small
// network: Z1 = W0 · O0, O1 = tanh_op(Z1), Z2 = W1 · O1, O2 = softplus_op(Z2), C = sum(O2).
// One of their backward rules is wrong. Run
//   ninja -C build labs/lab_05 && build/labs/lab_05 --trace
// (or --step to stop at each node), find the wrong rule, fix it here, and run again.
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
    // d tanh(x) = (1 - tanh(x)) dx
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * (1.0 - y[i]); });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    const Tensor local = map(out.value(), [](double v) { return 1.0 - v; });
    return {"{0} ⊙ {1}", {out.grad(), local}, hadamard(out.grad(), local)};
  };
  static constexpr OpDef op{.name = "tanh_op",
                            .backward = backward,
                            .rule = {"grad {a} += grad {out} ⊙ (1 - {out})"},
                            .numbers = numbers};
  return x.tape().commit(op);
}

}  // namespace stepgrad::labs
