// The losses: the article's printed cost (eq. 7) and the categorical cross-entropy whose
// gradient is eq. (8). Each records its node and computes the value (forward), defines its
// backward rule right below, and commits the node with that definition (Note [One definition per
// op] in tape.hpp); then registers itself for the tests (Note [The op registry]).
#include <cmath>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/op_helpers.hpp>
#include <stepgrad/autodiff/ops.hpp>

namespace stepgrad {

namespace {
// The derivative of fn::clamped_log: 1 / x, and 0 where the clamp is active (the log is flat).
double clamped_log_prime(double x) { return std::log(x) > fn::kLogFloor ? 1.0 / x : 0.0; }

// emit(i, p_i sum(Y) - y_i) for each element, sum(Y) taken per column, p = softmax(Z):
// cross_entropy_logits' rule for Z, written once.
template <class Emit>
void cross_entropy_local(const Tensor& p, const Tensor& y, Emit emit) {
  for_each_column_sum(
      p.shape(), [&](std::size_t i) { return y[i]; },
      [&](std::size_t i, double ysum) { emit(i, p[i] * ysum - y[i]); });
}
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
  // dC/do = g (-y / o + (1 - y) / (1 - o)) and dC/dy = -g (log o - log(1 - o)), element by
  // element, each clamped log's derivative 0 where the clamp is active. Written once for the
  // backward rule and its numbers:
  static constexpr auto d_o = [](double o_i, double y_i) {
    return -y_i * clamped_log_prime(o_i) + (1.0 - y_i) * clamped_log_prime(1.0 - o_i);
  };
  static constexpr auto d_y = [](double o_i) {
    return fn::clamped_log(o_i) - fn::clamped_log(1.0 - o_i);
  };
  constexpr auto backward = [](Tape& tape, Node& out) {
    const double g = out.grad()[0];
    Node& in_o = tape.node(out.a);
    Node& in_y = tape.node(out.b);
    const Tensor& o_val = in_o.value();
    const Tensor& y_val = in_y.value();
    // do += g * (-y / o + (1 - y) / (1 - o))
    accumulate(in_o, [&](std::size_t i) { return g * d_o(o_val[i], y_val[i]); });
    // dy += -g * (log o - log(1 - o))
    accumulate(in_y, [&](std::size_t i) { return -g * d_y(o_val[i]); });
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int k) -> RuleNumbers {
    const double g = out.grad()[0];
    const Tensor& o_val = tape.node(out.a).value();
    const Tensor& y_val = tape.node(out.b).value();
    Tensor local(o_val.shape());
    for (std::size_t i = 0; i < local.size(); ++i) {
      local[i] = k == 0 ? d_o(o_val[i], y_val[i]) : d_y(o_val[i]);
    }
    return {k == 0 ? "{0} * {1}" : "-{0} * {1}", {out.grad(), local}, (k == 0 ? g : -g) * local};
  };
  static constexpr OpDef op{
      .name = "binary_cross_entropy",
      .backward = backward,
      .rule = {"grad {a} += grad {out} * (-{b} / {a} + (1 - {b}) / (1 - {a}))",
               "grad {b} += -grad {out} * (log {a} - log(1 - {a}))"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_binary_cross_entropy{
    {.name = "binary_cross_entropy",
     .apply = binary(binary_cross_entropy),
     .inputs = {{.lo = 0.05, .hi = 0.95}, {.lo = 0.0, .hi = 1.0}}}};

Var mse_loss(Var o, Var y) {
  require_same_shape("mse_loss", o, y);
  Tape& t = o.tape();
  Node& c = t.record(Shape::scalar(), o, y);
  const Tensor& ov = o.value();
  const Tensor& yv = y.value();
  double total = 0.0;
  for (std::size_t i = 0; i < ov.size(); ++i) total += (ov[i] - yv[i]) * (ov[i] - yv[i]);
  c.value()[0] = total / static_cast<double>(ov.size());  // the mean, as PyTorch's MSELoss
  // dC/do = 2 (o - y) / n element by element, and dC/dy its negative. Written once for the
  // backward rule and its numbers:
  static constexpr auto local = [](const Tensor& o_val, const Tensor& y_val) {
    const double n = static_cast<double>(o_val.size());
    Tensor d(o_val.shape());
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = 2.0 * (o_val[i] - y_val[i]) / n;
    return d;
  };
  constexpr auto backward = [](Tape& tape, Node& out) {
    const double g = out.grad()[0];
    Node& in_o = tape.node(out.a);
    Node& in_y = tape.node(out.b);
    const Tensor d = local(in_o.value(), in_y.value());
    // do += g * 2 (o - y) / n
    accumulate(in_o, [&](std::size_t i) { return g * d[i]; });
    // dy += -g * 2 (o - y) / n
    accumulate(in_y, [&](std::size_t i) { return -g * d[i]; });
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int k) -> RuleNumbers {
    const double g = out.grad()[0];
    const Tensor d = local(tape.node(out.a).value(), tape.node(out.b).value());
    return {k == 0 ? "{0} * {1}" : "-{0} * {1}", {out.grad(), d}, (k == 0 ? g : -g) * d};
  };
  static constexpr OpDef op{
      .name = "mse_loss",
      .backward = backward,
      .rule = {"grad {a} += grad {out} * 2 ({a} - {b}) / size({a})",
               "grad {b} += -grad {out} * 2 ({a} - {b}) / size({a})"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_mse_loss{
    {.name = "mse_loss", .apply = binary(mse_loss), .inputs = {Domain{}, Domain{}}}};

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
  // dC/dZ = g (softmax(Z) sum(Y) - Y) per column: exactly O - Y for one-hot Y and g = 1, eq.
  // (8); cross_entropy_local gives softmax(Z) sum(Y) - Y to the backward rule and its numbers.
  constexpr auto backward = [](Tape& tape, Node& out) {
    const double g = out.grad()[0];
    Node& in = tape.node(out.a);
    Node& in_y = tape.node(out.b);
    const Tensor& p = out.saved;  // softmax(Z)
    const Tensor& y_val = in_y.value();
    // dZ += g * (softmax(Z) sum(Y) - Y)
    accumulate_each(in, [&](auto emit) {
      cross_entropy_local(p, y_val, [&](std::size_t i, double d) { emit(i, g * d); });
    });
    if (in_y.requires_grad) {
      // dY += -g log softmax(Z) (recomputed: log p would lose what underflowed in p)
      const Tensor log_p = fn::log_softmax(in.value());
      accumulate(in_y, [&](std::size_t i) { return -g * log_p[i]; });
    }
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int k) -> RuleNumbers {
    const double g = out.grad()[0];
    if (k == 1) {
      const Tensor log_p = fn::log_softmax(tape.node(out.a).value());
      return {"-{0} * {1}", {out.grad(), log_p}, -g * log_p};
    }
    const Tensor& p = out.saved;  // softmax(Z)
    const Tensor& y_val = tape.node(out.b).value();
    const Tensor local =
        collect(p.shape(), [&](auto emit) { cross_entropy_local(p, y_val, emit); });
    return {"{0} * {1}", {out.grad(), local}, g * local};
  };
  static constexpr OpDef op{
      .name = "cross_entropy_logits",
      .backward = backward,
      .rule = {"grad {a} += grad {out} * (softmax({a}) sum({b}) - {b})",
               "grad {b} += -grad {out} * log softmax({a})"},
      .numbers = numbers,
  };
  return t.commit(op);
}
// A target that sums to 1 per column, differentiated too; and a one-hot one, data.
const RegisterOp register_cross_entropy_logits{
    {.name = "cross_entropy_logits",
     .apply = binary(cross_entropy_logits),
     .inputs = {{.lo = -3.0, .hi = 3.0}, {.lo = 0.0, .hi = 1.0, .draw = Draw::Probability}}}};
const RegisterOp register_cross_entropy_logits_one_hot{
    {.name = "cross_entropy_logits",
     .apply = binary(cross_entropy_logits),
     .inputs = {{.lo = -3.0, .hi = 3.0},
                {.lo = 0.0, .hi = 1.0, .draw = Draw::OneHot, .differentiable = false}}}};

}  // namespace stepgrad
