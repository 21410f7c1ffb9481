// Lab 04, a solution: square(x) = x ⊙ x, an op written as the engine's are.
#include <stepgrad/autodiff/op_helpers.hpp>

#include "labs.hpp"

namespace stepgrad::labs {

Var square(Var x) {
  // forward: y = x ⊙ x
  record_map(x, [](double v) { return v * v; });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& xv = tape.node(out.a).value();
    // d(x²) = 2 x dx, added to what x already has (x may be used twice)
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * 2.0 * xv[i]; });
  };
  // the rule in words, and its numbers for --trace
  constexpr auto numbers = [](Tape& tape, Node& out, int) -> RuleNumbers {
    const Tensor local = 2.0 * tape.node(out.a).value();
    return {"{0} ⊙ {1}", {out.grad(), local}, hadamard(out.grad(), local)};
  };
  static constexpr OpDef op{.name = "square",
                            .label = "{out} = square({a})",
                            .backward = backward,
                            .rule = {"grad {a} += grad {out} ⊙ 2 {a}"},
                            .numbers = numbers};
  return x.tape().commit(op);
}

}  // namespace stepgrad::labs
