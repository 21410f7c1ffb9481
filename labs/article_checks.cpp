#include "article_checks.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/nn/deltas.hpp>

namespace stepgrad::labs {
namespace {

Tensor sigmoid_of(const Tensor& z) {
  return map(z, [](double v) { return fn::sigmoid(v); });
}
Tensor sigmoid_prime_of(const Tensor& z) {
  return map(z, [](double v) { return fn::sigmoid_prime(v); });
}

// The cost C = -Y · log softmax(Z3) (what eq. 8 differentiates) from each layer up.
double cost_from_Z3(const Tensor& Z3, const Tensor& Y) { return cross_entropy(Z3, Y); }
double cost_from_Z2(const Forward& f, const Tensor& Z2) {
  return cost_from_Z3(matmul(f.W2, sigmoid_of(Z2)), f.Y);
}
double cost_from_Z1(const Forward& f, const Tensor& Z1) {
  return cost_from_Z2(f, matmul(f.W1, sigmoid_of(Z1)));
}

std::string shape(const Tensor& t) { return fmt::format("{}", t.shape()); }

}  // namespace

const Check& ArticleChecks::check(std::string_view name) const {
  for (const Check& c : checks)
    if (c.name == name) return c;
  throw std::invalid_argument(fmt::format("no quantity '{}' in the article's checks", name));
}

Tensor subtracted(const Tensor& before, const Tensor& after, double lr) {
  if (after.shape() != before.shape()) return after;
  return (1.0 / lr) * (before - after);
}

ArticleChecks article_checks(const Network& network, const Tensor& x, const Tensor& y, double lr,
                             const std::function<void(Tape&)>& tracer) {
  if (network.options().bias || network.options().activation != Activation::sigmoid)
    throw std::invalid_argument(
        "article_checks: the article's network has sigmoid hidden layers and no biases");
  Network net = network;  // the tape leaves its gradients in the Parameters: a copy's
  net.zero_grad();
  const ForwardValues a = forward_pass(net, x);
  ArticleChecks out;
  out.lr = lr;
  out.f = std::make_shared<const Forward>(Forward{net.W0.value, net.W1.value, net.W2.value, a.O0,
                                                  a.Z1, a.O1, a.Z2, a.O2, a.Z3, a.O3, y});
  const std::shared_ptr<const Forward> fp = out.f;
  const Forward& f = *fp;
  Tape tape;
  tracer(tape);
  const TapeForward tf = record_forward(tape, net, x, y);
  tape.backward(tf.C);
  const Tensor d3 = tf.Z3.grad(), d2 = tf.Z2.grad(), d1 = tf.Z1.grad();
  const Tensor D2 = net.W2.grad(), D1 = net.W1.grad(), D0 = net.W0.grad();
  out.delta3 = d3;
  out.delta2 = d2;
  out.delta1 = d1;
  out.Delta2 = D2;
  out.Delta1 = D1;
  out.Delta0 = D0;

  // The catalogued mistakes' results, from the right quantities.
  const Tensor back2 = matmul(transpose(f.W2), d3);
  const Tensor back1 = matmul(transpose(f.W1), d2);
  const Tensor s2 = fn::softmax(f.Z2);
  const auto at_O = [](const Tensor& O) {
    return map(O, [](double v) {
      const double s = 1.0 / (1.0 + std::exp(-v));
      return s * (1.0 - s);
    });
  };
  const auto at_Z = [](const Tensor& Z) { return map(Z, [](double v) { return v - v * v; }); };
  const auto sigmoid_mistakes = [&](const Tensor& back, const Tensor& Z, const Tensor& O, int l) {
    return std::vector<Candidate>{
        {"sigmoid_at_O",
         fmt::format("sigmoid' taken at O{0} instead of Z{0}: sigmoid(O{0}) (1 - sigmoid(O{0})); "
                     "the derivative is sigmoid'(Z{0}) = O{0} (1 - O{0})",
                     l),
         hadamard(back, at_O(O)),
         fmt::format("sigmoid' 取在了 O{0} 处，而不是 Z{0}：sigmoid(O{0}) (1 - sigmoid(O{0}))；"
                     "导数是 sigmoid'(Z{0}) = O{0} (1 - O{0})",
                     l)},
        {"sigmoid_formula_at_Z",
         fmt::format("O (1 - O) evaluated at Z{0} instead of O{0}: Z{0} (1 - Z{0}); sigmoid'(Z{0}) "
                     "= O{0} (1 - O{0})",
                     l),
         hadamard(back, at_Z(Z)),
         fmt::format("O (1 - O) 在 Z{0} 处求值，而不是 O{0}：Z{0} (1 - Z{0})；sigmoid'(Z{0}) = "
                     "O{0} (1 - O{0})",
                     l)},
    };
  };
  Candidate e1;
  e1.id = "E1";
  e1.diagnosis =
      "erratum E1: the article's code multiplies by softmax's derivative s (1 - s), s = "
      "softmax(Z2), where sigmoid'(Z2) = O2 (1 - O2) belongs: layer 2 is a sigmoid layer";
  e1.diagnosis_zh =
      "勘误 E1：原文的代码乘的是 softmax 的导数 s (1 - s)，s = softmax(Z2)，而这里应当是 "
      "sigmoid'(Z2) = O2 (1 - O2)：第 2 层是 sigmoid 层";
  e1.value = hadamard(back2, hadamard(s2, map(s2, [](double v) { return 1.0 - v; })));
  std::vector<Candidate> m2 = sigmoid_mistakes(back2, f.Z2, f.O2, 2);
  m2.push_back(std::move(e1));

  // Eq. (12) in the wrong order: each W updated as soon as its Delta is known.
  const Tensor W2u = f.W2 - lr * D2;
  const Tensor d2u = hadamard(matmul(transpose(W2u), d3), sigmoid_prime_of(f.Z2));
  const Tensor W1u = f.W1 - lr * outer(d2u, f.O1);
  const Tensor d1u = hadamard(matmul(transpose(W1u), d2u), sigmoid_prime_of(f.Z1));
  const auto order = [](int l, const Tensor& v) {
    return std::vector<Candidate>{
        {"updated_weights",
         fmt::format("Delta{0} comes from a delta computed with W{1} already updated; eq. (12) "
                     "computes all three Deltas from the weights before the step, then updates",
                     l, l + 1),
         v,
         fmt::format("Delta{0} 来自用已经更新过的 W{1} 算出的 delta；式 (12) 先用这一步之前的权重"
                     "算出全部三个 Delta，然后才更新",
                     l, l + 1)}};
  };

  out.checks = {
      {"delta3",
       "eq. (8)",
       fmt::format("delta3 = O3 - Y {}", shape(d3)),
       false,
       d3,
       [fp](const Tensor& z) { return cost_from_Z3(z, fp->Y); },
       f.Z3,
       {}},
      {"delta2", "eq. (9)",
       fmt::format("delta2 = (W2^T {} · delta3 {}) ⊙ sigmoid'(Z2) {}", shape(transpose(f.W2)),
                   shape(d3), shape(d2)),
       false, d2, [fp](const Tensor& z) { return cost_from_Z2(*fp, z); }, f.Z2, m2},
      {"delta1", "eq. (10)",
       fmt::format("delta1 = (W1^T {} · delta2 {}) ⊙ sigmoid'(Z1) {}", shape(transpose(f.W1)),
                   shape(d2), shape(d1)),
       false, d1, [fp](const Tensor& z) { return cost_from_Z1(*fp, z); }, f.Z1,
       sigmoid_mistakes(back1, f.Z1, f.O1, 1)},
  };
  using Loss = std::function<double(const Tensor&)>;
  const Loss loss_W2 = [fp](const Tensor& w) { return cost_from_Z3(matmul(w, fp->O2), fp->Y); };
  const Loss loss_W1 = [fp](const Tensor& w) { return cost_from_Z2(*fp, matmul(w, fp->O1)); };
  const Loss loss_W0 = [fp](const Tensor& w) { return cost_from_Z1(*fp, matmul(w, fp->O0)); };
  const Tensor* Ds[] = {&D0, &D1, &D2};
  const Tensor* deltas[] = {&d1, &d2, &d3};
  const Tensor* Os[] = {&f.O0, &f.O1, &f.O2};
  const Tensor* Ws[] = {&f.W0, &f.W1, &f.W2};
  const Loss* losses[] = {&loss_W0, &loss_W1, &loss_W2};
  for (int l = 2; l >= 0; --l) {
    const auto k = static_cast<std::size_t>(l);
    out.checks.push_back(Check{fmt::format("Delta{}", l),
                               "eq. (11)",
                               fmt::format("Delta{0} = delta{1} ⊗ O{0}, {2} ⊗ {3} = {4}", l, l + 1,
                                           shape(*deltas[k]), shape(*Os[k]), shape(*Ds[k])),
                               true,
                               *Ds[k],
                               *losses[k],
                               *Ws[k],
                               {}});
  }
  for (int l = 2; l >= 0; --l) {
    const auto k = static_cast<std::size_t>(l);
    Check c{fmt::format("step W{}", l),
            "eq. (12)",
            fmt::format("W{0} <- W{0} - lr · Delta{0}, all three Deltas from the weights before "
                        "the step; graded: (W{0} before - W{0} after) / lr {1}",
                        l, shape(*Ds[k])),
            false,
            *Ds[k],
            *losses[k],
            *Ws[k],
            l == 1   ? order(1, outer(d2u, f.O1))
            : l == 0 ? order(0, outer(d1u, f.O0))
                     : std::vector<Candidate>{}};
    // (W before - W after) / lr carries the rounding of W - lr Delta, eps |W|, divided by lr.
    double w_max = 0.0;
    for (const double w : c.at.values()) w_max = std::max(w_max, std::abs(w));
    c.rounding = 16 * std::numeric_limits<double>::epsilon() * w_max / lr;
    out.checks.push_back(c);
  }
  return out;
}

}  // namespace stepgrad::labs
