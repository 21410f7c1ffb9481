// The losses: the article's printed cost (eq. 7) and the categorical cross-entropy whose
// gradient is eq. (8). Forward, then backward right below it.
#include <cmath>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/ops.hpp>

namespace stepgrad {

Var binary_cross_entropy(Var o, Var y) {
  if (o.shape() != y.shape())
    throw_shape_error("binary_cross_entropy", o.shape(), y.shape(), "need equal shapes");
  Tape& t = o.tape();
  Node& c = t.record(Op::BinaryCrossEntropy, Shape::scalar(), o, y);
  const Tensor& ov = o.value();
  const Tensor& yv = y.value();
  double total = 0.0;
  for (std::size_t i = 0; i < ov.size(); ++i) {
    // eq. (7), logs clamped at -100 (R7)
    total += yv[i] * fn::clamped_log(ov[i]) + (1.0 - yv[i]) * fn::clamped_log(1.0 - ov[i]);
  }
  c.value()[0] = -total;
  c.backward = [](Tape& tape, Node& out) {
    const double g = out.grad()[0];
    Node& in_o = tape.node(out.a);
    Node& in_y = tape.node(out.b);
    const Tensor& o_val = in_o.value();
    const Tensor& y_val = in_y.value();
    // a clamped log is flat, so its derivative is 0 where the clamp is active
    auto dlog = [](double in) { return std::log(in) > fn::kLogFloor ? 1.0 / in : 0.0; };
    // dC/do = g * (-y / o + (1 - y) / (1 - o))
    accumulate(in_o, [&](std::size_t i) {
      return g * (-y_val[i] * dlog(o_val[i]) + (1.0 - y_val[i]) * dlog(1.0 - o_val[i]));
    });
    // dC/dy = g * -(log o - log(1 - o))
    accumulate(in_y, [&](std::size_t i) {
      return -g * (fn::clamped_log(o_val[i]) - fn::clamped_log(1.0 - o_val[i]));
    });
  };
  return t.commit();
}

Var cross_entropy_logits(Var z, Var y) {
  if (z.shape() != y.shape() || z.shape().rank == 0) {
    throw_shape_error("cross_entropy_logits", z.shape(), y.shape(),
                      "need equal vector or matrix shapes");
  }
  Tape& t = z.tape();
  Node& c = t.record(Op::CrossEntropyLogits, Shape::scalar(), z, y);
  fn::log_softmax(z.value(), c.saved);
  const Tensor& logp = c.saved;
  const Tensor& yv = y.value();
  double total = 0.0;
  for (std::size_t i = 0; i < logp.size(); ++i) total += yv[i] * logp[i];
  c.value()[0] = -total;            // -sum Y ⊙ log softmax(Z): finite for any finite Z (R7)
  fn::softmax(z.value(), c.saved);  // backward needs the probabilities, not their logs
  c.backward = [](Tape& tape, Node& out) {
    const double g = out.grad()[0];
    Node& in = tape.node(out.a);
    Node& in_y = tape.node(out.b);
    const Tensor& p = out.saved;  // softmax(Z)
    const Tensor& y_val = in_y.value();
    if (in.requires_grad) {
      const Gradient::Target target =
          in.gradient().for_accumulation(in.value().shape());  // clang 14 cannot capture bindings
      Tensor& gz = target.tensor;
      const double beta = target.beta;
      fn::for_each_column(p.shape(), [&](std::size_t first, std::size_t stride, std::size_t cols) {
        double ysum = 0.0;
        for (std::size_t k = 0; k < cols; ++k) ysum += y_val[first + k * stride];
        for (std::size_t k = 0; k < cols; ++k) {
          const std::size_t i = first + k * stride;
          // dC/dZ = g (softmax(Z) sum(Y) - Y): exactly O - Y for one-hot Y and g = 1, eq. (8)
          const double d = g * (p[i] * ysum - y_val[i]);
          gz[i] = beta == 0.0 ? d : gz[i] + d;
        }
      });
    }
    if (in_y.requires_grad) {
      // dC/dY = -g log softmax(Z) (recomputed: log p would lose what underflowed in p)
      const Tensor log_p = fn::log_softmax(in.value());
      accumulate(in_y, [&](std::size_t i) { return -g * log_p[i]; });
    }
  };
  return t.commit();
}

}  // namespace stepgrad
