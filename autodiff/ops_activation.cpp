// Element-wise functions and softmax. Each records its node and computes the value (forward),
// defines its backward rule right below, and commits the node with that definition (Note [One
// definition per op] in tape.hpp); then registers itself for the tests (Note [The op registry]).
#include <algorithm>
#include <cmath>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/op_helpers.hpp>
#include <stepgrad/autodiff/ops.hpp>

namespace stepgrad {

Var exp(Var x) {
  static constexpr auto op = elementwise(
      "exp", [](double v) { return std::exp(v); },  // y = e^x
      [](double, double y) { return y; },           // y' = e^x = y
      "grad {a} += grad {out} ⊙ {out}");
  return op(x);
}
const RegisterOp register_exp{{.name = "exp", .apply = unary(exp), .inputs = {Domain{}}}};

Var log(Var x) {
  static constexpr auto op = elementwise(
      "log", [](double v) { return std::log(v); },  // y = log x
      [](double v, double) { return 1.0 / v; },     // y' = 1 / x
      "grad {a} += grad {out} ⊙ 1/{a}");
  return op(x);
}
const RegisterOp register_log{
    {.name = "log", .apply = unary(log), .inputs = {{.lo = 0.5, .hi = 3.0}}}};

Var sigmoid(Var x) {
  static constexpr auto op = elementwise(
      "sigmoid",
      [](const Tensor& v, Tensor& y) { fn::sigmoid(v, y); },  // y = 1 / (1 + e^-x), without
                                                              // overflow, several at a time
      [](double, double s) { return s * (1.0 - s); },         // y' = y (1 - y)
      "grad {a} += grad {out} ⊙ {out} (1 - {out})");
  return op(x);
}
const RegisterOp register_sigmoid{
    {.name = "sigmoid", .apply = unary(sigmoid), .inputs = {{.lo = -4.0, .hi = 4.0}}}};

Var tanh(Var x) {
  static constexpr auto op = elementwise(
      "tanh", [](double v) { return fn::tanh(v); },  // y = tanh x (Note [One tanh for the
                                                     // page and the programs])
      [](double, double t) { return 1.0 - t * t; },  // y' = 1 - y²
      "grad {a} += grad {out} ⊙ (1 - {out}²)");
  return op(x);
}
const RegisterOp register_tanh{{.name = "tanh", .apply = unary(tanh), .inputs = {Domain{}}}};

Var square(Var x) {
  static constexpr auto op = elementwise(
      "square", [](double v) { return v * v; },  // y = x²
      [](double v, double) { return 2.0 * v; },  // y' = 2 x
      "grad {a} += grad {out} ⊙ 2 {a}");
  return op(x);
}
const RegisterOp register_square{{.name = "square", .apply = unary(square), .inputs = {Domain{}}}};

Var relu(Var x) {
  static constexpr auto op = elementwise(
      "relu", [](double v) { return fn::relu(v); },          // y = max(x, 0)
      [](double, double r) { return r > 0.0 ? 1.0 : 0.0; },  // y' = 1 where x > 0, else 0 (the
                                                             // kink at 0 gets 0, as PyTorch)
      "grad {a} += grad {out} ⊙ ({out} > 0)");
  return op(x);
}
const RegisterOp register_relu{{.name = "relu",
                                .apply = unary(relu),
                                .inputs = {{.draw = Draw::AwayFromZero}},
                                .smooth = false}};

Var softplus(Var x) {
  // y = log(1 + e^x), as max(x, 0) + log(1 + e^-|x|): e^-|x| <= 1 never overflows
  static constexpr auto op = elementwise(
      "softplus", [](double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))); },
      [](double v, double) { return fn::sigmoid(v); },  // y' = sigmoid(x)
      "grad {a} += grad {out} ⊙ sigmoid({a})");
  return op(x);
}
const RegisterOp register_softplus{
    {.name = "softplus", .apply = unary(softplus), .inputs = {Domain{}}}};

namespace {
// emit(i, g_i - <g, y>) for each element, <g, y> taken per column: softmax's rule, written once.
template <class Emit>
void softmax_centred(const Tensor& g, const Tensor& y, Emit emit) {
  for_each_column_sum(
      g.shape(), [&](std::size_t i) { return g[i] * y[i]; },
      [&](std::size_t i, double gy) { emit(i, g[i] - gy); });
}
}  // namespace

Var softmax(Var z) {
  if (z.shape().rank == 0) throw ShapeError("softmax: needs a vector or a matrix, not a scalar");
  Tape& t = z.tape();
  Node& s = t.record(z.shape(), z);
  fn::softmax(z.value(), s.value());
  // dz = J^T g with J = diag(y) - y y^T, per column: y ⊙ (g - <g, y>), the whole Jacobian (E3);
  // softmax_centred gives g - <g, y> to the backward rule and to its numbers.
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& y = out.value();
    // dz += y ⊙ (g - <g, y>)
    accumulate_each(tape.node(out.a), [&](auto emit) {
      softmax_centred(g, y, [&](std::size_t i, double c) { emit(i, y[i] * c); });
    });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    const Tensor& g = out.grad();
    const Tensor& y = out.value();
    const Tensor c = collect(g.shape(), [&](auto emit) { softmax_centred(g, y, emit); });
    return {"{0} ⊙ {1}", {y, c}, hadamard(y, c)};
  };
  static constexpr OpDef op{
      .name = "softmax",
      .backward = backward,
      .rule = {"grad {a} += {out} ⊙ (grad {out} - <grad {out}, {out}>)"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_softmax{
    {.name = "softmax", .apply = unary(softmax), .inputs = {{.lo = -3.0, .hi = 3.0}}}};

namespace {
// emit(i, e^y_i sum(g)) for each element, sum(g) taken per column: log_softmax's rule, written
// once.
template <class Emit>
void log_softmax_spread(const Tensor& g, const Tensor& y, Emit emit) {
  for_each_column_sum(
      g.shape(), [&](std::size_t i) { return g[i]; },
      [&](std::size_t i, double gsum) { emit(i, std::exp(y[i]) * gsum); });
}
}  // namespace

Var log_softmax(Var z) {
  if (z.shape().rank == 0)
    throw ShapeError("log_softmax: needs a vector or a matrix, not a scalar");
  Tape& t = z.tape();
  Node& l = t.record(z.shape(), z);
  fn::log_softmax(z.value(), l.value());
  // dz = g - softmax(z) sum(g) per column, and softmax(z) = e^y; log_softmax_spread gives
  // e^y sum(g) to the backward rule and to its numbers.
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& y = out.value();
    // dz += g - e^y sum(g)
    accumulate_each(tape.node(out.a), [&](auto emit) {
      log_softmax_spread(g, y, [&](std::size_t i, double s) { emit(i, g[i] - s); });
    });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    const Tensor& g = out.grad();
    const Tensor s =
        collect(g.shape(), [&](auto emit) { log_softmax_spread(g, out.value(), emit); });
    return {"{0} - {1}", {g, s}, g - s};
  };
  static constexpr OpDef op{
      .name = "log_softmax",
      .backward = backward,
      .rule = {"grad {a} += grad {out} - e^{out} sum(grad {out})"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_log_softmax{
    {.name = "log_softmax", .apply = unary(log_softmax), .inputs = {{.lo = -3.0, .hi = 3.0}}}};

}  // namespace stepgrad
