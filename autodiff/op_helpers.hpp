// What an op is written with: the forward loops of element-wise ops, elementwise_op (an
// element-wise op from f, f' and its rule), the accumulate helpers of backward rules (Note
// [Gradient accumulation] in tape.hpp), and RegisterOp, which lists an op for the tests (Note
// [The op registry]). Include it to write an op, in autodiff/ops_*.cpp or in a program of your
// own (docs/architecture.md, "How to add an op").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/tape.hpp>

namespace stepgrad {

/// Throws ShapeError("op: shapes (a) and (b) do not fit: need equal shapes") unless a and b
/// have one shape.
void require_same_shape(std::string_view op, Var a, Var b);

/// Records a node of x's shape whose value is f(x[i]) element by element: the forward of an
/// element-wise function. Commit it with the op's OpDef.
template <class F>
Node& record_map(Var x, F f) {
  Node& y = x.tape().record(x.shape(), x);
  const Tensor& xv = x.value();
  Tensor& yv = y.value();
  for (std::size_t i = 0; i < yv.size(); ++i) yv[i] = f(xv[i]);
  return y;
}

/// Records a node whose value is f(a[i], b[i]) element by element (a and b of one shape, see
/// require_same_shape). Commit it with the op's OpDef.
template <class F>
Node& record_zip(Var a, Var b, F f) {
  Node& c = a.tape().record(a.shape(), a, b);
  const Tensor& av = a.value();
  const Tensor& bv = b.value();
  Tensor& cv = c.value();
  for (std::size_t i = 0; i < cv.size(); ++i) cv[i] = f(av[i], bv[i]);
  return c;
}

/// Adds contribution(i) to element i of n's gradient, for every element, when n needs a
/// gradient (Note [Gradient accumulation]). The backward rules of element-wise ops use it.
template <class F>
void accumulate(Node& n, F contribution) {
  if (!n.requires_grad) return;
  auto [g, beta] = n.gradient().for_accumulation(n.value().shape());
  const std::size_t size = g.size();
  if (beta == 0.0) {
    for (std::size_t i = 0; i < size; ++i) g[i] = contribution(i);
  } else {
    for (std::size_t i = 0; i < size; ++i) g[i] += contribution(i);
  }
}

// Note [Element-wise ops]
// An element-wise op y = f(x) states its derivative once, as f'(x, y): from the input x or the
// output y, whichever is cheaper (sigmoid' = y (1 - y)). elementwise_op makes its OpDef from f'
// and the rule in words: the backward rule adds g ⊙ f'(x, y) to x's gradient, and the rule's
// numbers for --trace are g and f'(x, y), "{0} ⊙ {1}", from the same f'. So the trace prints
// the very numbers the backward rule adds, and only the rule's words are written by hand.

/// An element-wise op: y = f(x) as its forward, f'(x, y) as its derivative (Note [Element-wise
/// ops]). f and f' are lambdas without captures; call it to record and commit a node.
template <class F, class FPrime>
struct Elementwise {
  OpDef def;
  /// Records y = f(x) and commits it as a node of this op.
  Var operator()(Var x) const {
    if constexpr (std::is_invocable_v<F, const Tensor&, Tensor&>) {
      Node& y = x.tape().record(x.shape(), x);
      F{}(x.value(), y.value());  // f of the whole tensor at once (sigmoid's vectorised loop)
    } else {
      record_map(x, F{});
    }
    return x.tape().commit(def);
  }
};

/// Makes an element-wise op from its name, f, f' and its rule in words:
/// `static constexpr auto op = elementwise("exp", f, f', "grad {a} += grad {out} ⊙ {out}");`
/// then `return op(x);`. f is double -> double, or (const Tensor& x, Tensor& y) -> void to fill
/// y at once; f' is (double x, double y) -> double. The rule names x {a} and y {out} (Note
/// [Rules as text] in tape.hpp).
template <class F, class FPrime>
constexpr Elementwise<F, FPrime> elementwise(std::string_view name, F, FPrime,
                                             std::string_view rule) {
  return {OpDef{.name = name,
                .backward =
                    [](Tape& tape, Node& out) {
                      Node& in = tape.node(out.a);
                      const Tensor& g = out.grad();
                      const Tensor& x = in.value();
                      const Tensor& y = out.value();
                      // dx += g ⊙ f'(x, y)
                      accumulate(in, [&](std::size_t i) { return g[i] * FPrime{}(x[i], y[i]); });
                    },
                .rule = {rule},
                .numbers = [](Tape& tape, Node& out, int) -> RuleNumbers {
                  const Tensor& g = out.grad();
                  const Tensor& x = tape.node(out.a).value();
                  const Tensor& y = out.value();
                  Tensor slope(y.shape());  // f'(x, y)
                  for (std::size_t i = 0; i < slope.size(); ++i) slope[i] = FPrime{}(x[i], y[i]);
                  return {"{0} ⊙ {1}", {g, slope}, hadamard(g, slope)};
                }}};
}

/// For each column of a tensor of `shape` (the whole of a vector), s = the sum of term(i) over
/// its elements, in order, then each(i, s) for each element i of the column: the shape of a
/// rule that couples the elements of a column (a sample), as softmax's does.
template <class Term, class Each>
void for_each_column_sum(const Shape& shape, Term term, Each each) {
  fn::for_each_column(shape, [&](std::size_t first, std::size_t stride, std::size_t rows) {
    double s = 0.0;
    for (std::size_t k = 0; k < rows; ++k) s += term(first + k * stride);
    for (std::size_t k = 0; k < rows; ++k) each(first + k * stride, s);
  });
}

/// accumulate() for a rule written as a function that calls emit(i, contribution) once for each
/// element i of n, in any order: `accumulate_each(n, [&](auto emit) { ... })`. Coupled rules
/// (softmax's) write their math once this way and give it to collect() for their numbers.
template <class Rule>
void accumulate_each(Node& n, Rule rule) {
  if (!n.requires_grad) return;
  const Gradient::Target target = n.gradient().for_accumulation(n.value().shape());
  Tensor& g = target.tensor;  // (not a structured binding: clang 14 cannot capture those)
  const double beta = target.beta;
  rule([&](std::size_t i, double d) { g[i] = beta == 0.0 ? d : g[i] + d; });
}

/// What such a rule emits, as a tensor of `shape`: the same numbers for OpDef::numbers.
template <class Rule>
Tensor collect(const Shape& shape, Rule rule) {
  Tensor t(shape);
  rule([&](std::size_t i, double d) { t[i] = d; });
  return t;
}

// Note [The op registry]
// Every op lists itself for the tests right below its code: `const RegisterOp ...{{...}}` names
// its OpDef, says how to call it and where its inputs are drawn (positive for log, away from 0
// for relu's kink, a probability vector for a loss's target). tests/autodiff/test_ops.cpp walks
// registered_ops(): every op against finite differences, its rule's numbers against its
// gradient, and its row of docs/ops.md against its rule in words; and every op declared in
// autodiff/ops.hpp must be registered. So a new op is tested without editing a test.

/// How the tests draw an input: uniform in [lo, hi]; the same, kept 0.1 away from 0 (a kink
/// there); or each column made one-hot or a probability vector (a loss's target).
enum class Draw : std::uint8_t { Uniform, AwayFromZero, OneHot, Probability };

/// Where one input of an op's test is drawn.
struct Domain {
  double lo = -2.0, hi = 2.0;
  Draw draw = Draw::Uniform;
  bool differentiable = true;  ///< false: recorded with Tape::input (a one-hot target)
};

/// The op on its inputs, as the tests call it.
using ApplyOp = std::function<Var(std::span<const Var>)>;
/// ApplyOp of an op of one or two Vars: unary(sigmoid), binary(add).
ApplyOp unary(Var (*op)(Var));
ApplyOp binary(Var (*op)(Var, Var));

/// How to test an op (Note [The op registry]).
struct OpCheck {
  std::string_view name;       ///< its OpDef's name, as in docs/ops.md
  ApplyOp apply;               ///< the op on its inputs: unary(sigmoid), or a lambda
  std::vector<Domain> inputs;  ///< one per input
  /// One test case per entry, one shape per input. Empty: every input (5,), then (3, 4).
  std::vector<std::vector<Shape>> shapes = {};
  bool smooth = true;  ///< false for an op with a kink (relu): R1's max-rel bar is for smooth ops
};

/// Adds an op's check to registered_ops() when the program starts: a `const RegisterOp` at
/// namespace scope, right below the op.
class RegisterOp {
 public:
  explicit RegisterOp(OpCheck check);
};

/// Every registered op check, in the order they registered (an op may register several).
const std::vector<OpCheck>& registered_ops();

}  // namespace stepgrad
