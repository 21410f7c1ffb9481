// Lab 04, a solution: cube(x) = x³, an op written as the engine's are.
#include <stepgrad/autodiff/op_helpers.hpp>

#include "labs.hpp"

namespace stepgrad::labs {

Var cube(Var x) {
  // forward: y = x³, element-wise
  record_map(x, [](double v) { return v * v * v; });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& xv = tape.node(out.a).value();
    // d(x³) = 3 x² dx, added to what x already has (x may be used twice)
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * 3.0 * xv[i] * xv[i]; });
  };
  // the rule in words, and its numbers for --trace
  constexpr auto numbers = [](Tape& tape, Node& out, int) -> RuleNumbers {
    const Tensor& xv = tape.node(out.a).value();
    const Tensor local = 3.0 * hadamard(xv, xv);
    return {"{0} ⊙ {1}", {out.grad(), local}, hadamard(out.grad(), local)};
  };
  static constexpr OpDef op{.name = "cube",
                            .label = "{out} = cube({a})",
                            .backward = backward,
                            .rule = {"grad {a} += grad {out} ⊙ 3 {a}²"},
                            .numbers = numbers};
  return x.tape().commit(op);
}

}  // namespace stepgrad::labs
