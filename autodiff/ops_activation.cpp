// Element-wise functions and softmax. Each records its node and computes the value (forward),
// defines its backward rule right below, and commits the node with that definition (Note [One
// definition per op] in tape.hpp).
#include <cmath>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/op_helpers.hpp>
#include <stepgrad/autodiff/ops.hpp>

namespace stepgrad {

Var exp(Var x) {
  record_map(x, [](double v) { return std::exp(v); });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& y = out.value();
    // d e^x = g e^x = g y
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * y[i]; });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    return {"{0} ⊙ {1}", {out.grad(), out.value()}, hadamard(out.grad(), out.value())};
  };
  static constexpr OpDef op{"exp",  "", backward, nullptr, {"grad {a} += grad {out} ⊙ {out}"},
                            numbers};
  return x.tape().commit(op);
}

Var log(Var x) {
  record_map(x, [](double v) { return std::log(v); });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    Node& in = tape.node(out.a);
    // d log x = g / x
    accumulate(in, [&](std::size_t i) { return g[i] / in.value()[i]; });
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int) -> RuleNumbers {
    const Tensor& in = tape.node(out.a).value();
    Tensor r(in.shape());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = out.grad()[i] / in[i];
    return {"{0} / {1}", {out.grad(), in}, r};
  };
  static constexpr OpDef op{"log",  "", backward, nullptr, {"grad {a} += grad {out} / {a}"},
                            numbers};
  return x.tape().commit(op);
}

Var sigmoid(Var x) {
  Node& y = x.tape().record(x.shape(), x);
  fn::sigmoid(x.value(), y.value());  // fn::sigmoid of each element, several at a time
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& s = out.value();
    // d sigmoid = g * out * (1 - out)
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * (s[i] * (1.0 - s[i])); });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    const Tensor slope = map(out.value(), [](double s) { return s * (1.0 - s); });
    return {"{0} ⊙ {1}", {out.grad(), slope}, hadamard(out.grad(), slope)};
  };
  static constexpr OpDef op{
      "sigmoid", "", backward, nullptr, {"grad {a} += grad {out} ⊙ {out} (1 - {out})"}, numbers};
  return x.tape().commit(op);
}

Var tanh(Var x) {
  record_map(x, [](double v) { return std::tanh(v); });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& t = out.value();
    // d tanh = g * (1 - out^2)
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * (1.0 - t[i] * t[i]); });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    const Tensor slope = map(out.value(), [](double t) { return 1.0 - t * t; });
    return {"{0} ⊙ {1}", {out.grad(), slope}, hadamard(out.grad(), slope)};
  };
  static constexpr OpDef op{
      "tanh", "", backward, nullptr, {"grad {a} += grad {out} ⊙ (1 - {out}²)"}, numbers};
  return x.tape().commit(op);
}

Var relu(Var x) {
  record_map(x, [](double v) { return fn::relu(v); });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& r = out.value();
    // d relu = g where x > 0, else 0 (the kink at 0 gets 0, as PyTorch)
    accumulate(tape.node(out.a), [&](std::size_t i) { return r[i] > 0.0 ? g[i] : 0.0; });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    const Tensor open = map(out.value(), [](double r) { return r > 0.0 ? 1.0 : 0.0; });
    return {"{0} ⊙ {1}", {out.grad(), open}, hadamard(out.grad(), open)};
  };
  static constexpr OpDef op{"relu", "", backward, nullptr, {"grad {a} += grad {out} ⊙ ({out} > 0)"},
                            numbers};
  return x.tape().commit(op);
}

Var softmax(Var z) {
  if (z.shape().rank == 0) throw ShapeError("softmax: needs a vector or a matrix, not a scalar");
  Tape& t = z.tape();
  Node& s = t.record(z.shape(), z);
  fn::softmax(z.value(), s.value());
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& y = out.value();
    // dz = J^T g with J = diag(y) - y y^T, per column: y ⊙ (g - <g, y>),
    // the whole Jacobian (E3)
    accumulate_by_column(
        tape.node(out.a), [&](std::size_t i) { return g[i] * y[i]; },
        [&](std::size_t i, double gy) { return y[i] * (g[i] - gy); });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    const Tensor& g = out.grad();
    const Tensor& y = out.value();
    Tensor centred(g.shape());  // g - <g, y>, per column
    fn::for_each_column(g.shape(), [&](std::size_t first, std::size_t stride, std::size_t rows) {
      double gy = 0.0;
      for (std::size_t k = 0; k < rows; ++k) gy += g[first + k * stride] * y[first + k * stride];
      for (std::size_t k = 0; k < rows; ++k)
        centred[first + k * stride] = g[first + k * stride] - gy;
    });
    return {"{0} ⊙ {1}", {y, centred}, hadamard(y, centred)};
  };
  static constexpr OpDef op{
      "softmax", "", backward, nullptr, {"grad {a} += {out} ⊙ (grad {out} - <grad {out}, {out}>)"},
      numbers};
  return t.commit(op);
}

Var log_softmax(Var z) {
  if (z.shape().rank == 0)
    throw ShapeError("log_softmax: needs a vector or a matrix, not a scalar");
  Tape& t = z.tape();
  Node& l = t.record(z.shape(), z);
  fn::log_softmax(z.value(), l.value());
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& y = out.value();
    // dz = g - softmax(z) * sum(g) per column, and softmax(z) = e^y
    accumulate_by_column(
        tape.node(out.a), [&](std::size_t i) { return g[i]; },
        [&](std::size_t i, double gsum) { return g[i] - std::exp(y[i]) * gsum; });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    const Tensor& g = out.grad();
    const Tensor& y = out.value();
    Tensor spread(g.shape());  // e^out sum(g), per column
    fn::for_each_column(g.shape(), [&](std::size_t first, std::size_t stride, std::size_t rows) {
      double gsum = 0.0;
      for (std::size_t k = 0; k < rows; ++k) gsum += g[first + k * stride];
      for (std::size_t k = 0; k < rows; ++k)
        spread[first + k * stride] = std::exp(y[first + k * stride]) * gsum;
    });
    return {"{0} - {1}", {g, spread}, g - spread};
  };
  static constexpr OpDef op{
      "log_softmax", "", backward, nullptr, {"grad {a} += grad {out} - e^{out} sum(grad {out})"},
      numbers};
  return t.commit(op);
}

}  // namespace stepgrad
