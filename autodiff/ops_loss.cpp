// The losses: the article's printed cost (eq. 7) and the categorical cross-entropy whose
// gradient is eq. (8). Each records its node and computes the value (forward), defines its
// backward rule right below, and commits the node with that definition (Note [One definition per
// op] in tape.hpp).
#include <cmath>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/op_helpers.hpp>
#include <stepgrad/autodiff/ops.hpp>

namespace stepgrad {

namespace {
// The derivative of fn::clamped_log: 1 / x, and 0 where the clamp is active (the log is flat).
double clamped_log_prime(double x) { return std::log(x) > fn::kLogFloor ? 1.0 / x : 0.0; }
}  // namespace

Var binary_cross_entropy(Var o, Var y) {
  require_same_shape("binary_cross_entropy", o, y);
  Tape& t = o.tape();
  Node& c = t.record(Shape::scalar(), o, y);
  const Tensor& ov = o.value();
  const Tensor& yv = y.value();
  double total = 0.0;
  for (std::size_t i = 0; i < ov.size(); ++i) {
    // eq. (7), logs clamped at -100 (R7 in docs/reliability.md)
    total += yv[i] * fn::clamped_log(ov[i]) + (1.0 - yv[i]) * fn::clamped_log(1.0 - ov[i]);
  }
  c.value()[0] = -total;
  constexpr auto backward = [](Tape& tape, Node& out) {
    const double g = out.grad()[0];
    Node& in_o = tape.node(out.a);
    Node& in_y = tape.node(out.b);
    const Tensor& o_val = in_o.value();
    const Tensor& y_val = in_y.value();
    // dC/do = g * (-y / o + (1 - y) / (1 - o))
    accumulate(in_o, [&](std::size_t i) {
      return g * (-y_val[i] * clamped_log_prime(o_val[i]) +
                  (1.0 - y_val[i]) * clamped_log_prime(1.0 - o_val[i]));
    });
    // dC/dy = g * -(log o - log(1 - o))
    accumulate(in_y, [&](std::size_t i) {
      return -g * (fn::clamped_log(o_val[i]) - fn::clamped_log(1.0 - o_val[i]));
    });
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int k) -> RuleNumbers {
    const double g = out.grad()[0];
    const Tensor& o_val = tape.node(out.a).value();
    const Tensor& y_val = tape.node(out.b).value();
    Tensor local(o_val.shape());
    for (std::size_t i = 0; i < local.size(); ++i) {
      local[i] = k == 0 ? -y_val[i] * clamped_log_prime(o_val[i]) +
                              (1.0 - y_val[i]) * clamped_log_prime(1.0 - o_val[i])
                        : fn::clamped_log(o_val[i]) - fn::clamped_log(1.0 - o_val[i]);
    }
    return {k == 0 ? "{0} * {1}" : "-{0} * {1}", {out.grad(), local}, (k == 0 ? g : -g) * local};
  };
  static constexpr OpDef op{"binary_cross_entropy",
                            "",
                            backward,
                            nullptr,
                            {"grad {a} += grad {out} * (-{b} / {a} + (1 - {b}) / (1 - {a}))",
                             "grad {b} += -grad {out} * (log {a} - log(1 - {a}))"},
                            numbers};
  return t.commit(op);
}

Var cross_entropy_logits(Var z, Var y) {
  if (z.shape() != y.shape() || z.shape().rank == 0) {
    throw_shape_error("cross_entropy_logits", z.shape(), y.shape(),
                      "need equal vector or matrix shapes");
  }
  Tape& t = z.tape();
  Node& c = t.record(Shape::scalar(), z, y);
  fn::log_softmax(z.value(), c.saved);
  const Tensor& logp = c.saved;
  const Tensor& yv = y.value();
  double total = 0.0;
  for (std::size_t i = 0; i < logp.size(); ++i) total += yv[i] * logp[i];
  c.value()[0] = -total;            // -sum Y ⊙ log softmax(Z): finite for any finite Z (R7)
  fn::softmax(z.value(), c.saved);  // backward needs the probabilities, not their logs
  constexpr auto backward = [](Tape& tape, Node& out) {
    const double g = out.grad()[0];
    Node& in = tape.node(out.a);
    Node& in_y = tape.node(out.b);
    const Tensor& p = out.saved;  // softmax(Z)
    const Tensor& y_val = in_y.value();
    // dC/dZ = g (softmax(Z) sum(Y) - Y) per column: exactly O - Y for one-hot Y and g = 1, eq.
    // (8)
    accumulate_by_column(
        in, [&](std::size_t i) { return y_val[i]; },
        [&](std::size_t i, double ysum) { return g * (p[i] * ysum - y_val[i]); });
    if (in_y.requires_grad) {
      // dC/dY = -g log softmax(Z) (recomputed: log p would lose what underflowed in p)
      const Tensor log_p = fn::log_softmax(in.value());
      accumulate(in_y, [&](std::size_t i) { return -g * log_p[i]; });
    }
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int k) -> RuleNumbers {
    const double g = out.grad()[0];
    const Tensor& p = out.saved;  // softmax(Z)
    const Tensor& y_val = tape.node(out.b).value();
    if (k == 1) {
      const Tensor log_p = fn::log_softmax(tape.node(out.a).value());
      return {"-{0} * {1}", {out.grad(), log_p}, -g * log_p};
    }
    Tensor local(p.shape());  // softmax(Z) sum(Y) - Y, per column
    fn::for_each_column(p.shape(), [&](std::size_t first, std::size_t stride, std::size_t rows) {
      double ysum = 0.0;
      for (std::size_t r = 0; r < rows; ++r) ysum += y_val[first + r * stride];
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t i = first + r * stride;
        local[i] = p[i] * ysum - y_val[i];
      }
    });
    return {"{0} * {1}", {out.grad(), local}, g * local};
  };
  static constexpr OpDef op{"cross_entropy_logits",
                            "",
                            backward,
                            nullptr,
                            {"grad {a} += grad {out} * (softmax({a}) sum({b}) - {b})",
                             "grad {b} += -grad {out} * log softmax({a})"},
                            numbers};
  return t.commit(op);
}

}  // namespace stepgrad
