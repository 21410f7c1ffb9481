// Element-wise functions and softmax: forward, then backward right below it.
#include <cmath>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/ops.hpp>

namespace stepgrad {

namespace {
// Records y = f(x) element by element.
template <class F>
Node& elementwise(Op op, Var x, F f) {
  Node& y = x.tape().record(op, x.shape(), x);
  const Tensor& xv = x.value();
  Tensor& yv = y.value();
  for (std::size_t i = 0; i < yv.size(); ++i) yv[i] = f(xv[i]);
  return y;
}
}  // namespace

Var exp(Var x) {
  Node& y = elementwise(Op::Exp, x, [](double v) { return std::exp(v); });
  y.backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    // d e^x = g e^x = g y
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * out.value()[i]; });
  };
  return x.tape().commit();
}

Var log(Var x) {
  Node& y = elementwise(Op::Log, x, [](double v) { return std::log(v); });
  y.backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    Node& in = tape.node(out.a);
    // d log x = g / x
    accumulate(in, [&](std::size_t i) { return g[i] / in.value()[i]; });
  };
  return x.tape().commit();
}

Var sigmoid(Var x) {
  Node& y = elementwise(Op::Sigmoid, x, [](double v) { return fn::sigmoid(v); });
  y.backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& s = out.value();
    // d sigmoid = g * out * (1 - out)
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * (s[i] * (1.0 - s[i])); });
  };
  return x.tape().commit();
}

Var tanh(Var x) {
  Node& y = elementwise(Op::Tanh, x, [](double v) { return std::tanh(v); });
  y.backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& t = out.value();
    // d tanh = g * (1 - out^2)
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i] * (1.0 - t[i] * t[i]); });
  };
  return x.tape().commit();
}

Var relu(Var x) {
  Node& y = elementwise(Op::Relu, x, [](double v) { return v > 0.0 ? v : 0.0; });
  y.backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& r = out.value();
    // d relu = g where x > 0, else 0 (the kink at 0 gets 0, as PyTorch)
    accumulate(tape.node(out.a), [&](std::size_t i) { return r[i] > 0.0 ? g[i] : 0.0; });
  };
  return x.tape().commit();
}

Var softmax(Var z) {
  if (z.shape().rank == 0) throw ShapeError("softmax: needs a vector or a matrix, not a scalar");
  Tape& t = z.tape();
  Node& s = t.record(Op::Softmax, z.shape(), z);
  fn::softmax(z.value(), s.value());
  s.backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& in_y = out.value();
    Node& in = tape.node(out.a);
    if (!in.requires_grad) return;
    const Gradient::Target target =
        in.gradient().for_accumulation(in.value().shape());  // clang 14 cannot capture bindings
    Tensor& gz = target.tensor;
    const double beta = target.beta;
    fn::for_each_column(in_y.shape(), [&](std::size_t first, std::size_t stride, std::size_t cols) {
      double gy = 0.0;
      for (std::size_t k = 0; k < cols; ++k) gy += g[first + k * stride] * in_y[first + k * stride];
      for (std::size_t k = 0; k < cols; ++k) {
        const std::size_t i = first + k * stride;
        // dz = J^T g with J = diag(y) - y y^T: y ⊙ (g - <g, y>), the whole Jacobian (E3)
        const double d = in_y[i] * (g[i] - gy);
        gz[i] = beta == 0.0 ? d : gz[i] + d;
      }
    });
  };
  return t.commit();
}

Var log_softmax(Var z) {
  if (z.shape().rank == 0)
    throw ShapeError("log_softmax: needs a vector or a matrix, not a scalar");
  Tape& t = z.tape();
  Node& l = t.record(Op::LogSoftmax, z.shape(), z);
  fn::log_softmax(z.value(), l.value());
  l.backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& in_y = out.value();
    Node& in = tape.node(out.a);
    if (!in.requires_grad) return;
    const Gradient::Target target =
        in.gradient().for_accumulation(in.value().shape());  // clang 14 cannot capture bindings
    Tensor& gz = target.tensor;
    const double beta = target.beta;
    fn::for_each_column(in_y.shape(), [&](std::size_t first, std::size_t stride, std::size_t cols) {
      double gsum = 0.0;
      for (std::size_t k = 0; k < cols; ++k) gsum += g[first + k * stride];
      for (std::size_t k = 0; k < cols; ++k) {
        const std::size_t i = first + k * stride;
        // dz = g - softmax(z) * sum(g), and softmax(z) = e^y
        const double d = g[i] - std::exp(in_y[i]) * gsum;
        gz[i] = beta == 0.0 ? d : gz[i] + d;
      }
    });
  };
  return t.commit();
}

}  // namespace stepgrad
