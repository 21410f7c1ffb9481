// lab_02: the article's deltas, eqs. (8)-(11), and the update, eq. (12), for one sample through
// the 784-128-64-10 network (seed 42). Grades labs/02_deltas.cpp against the tape and finite
// differences. Each function gets the tape's (right) deltas as its inputs, so one mistake shows
// in one quantity.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/network.hpp>

#include "grader.hpp"
#include "labs.hpp"

using namespace stepgrad;
using namespace stepgrad::labs;

namespace {

constexpr double kLr = 0.001;  // the article's t_rate

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

// The planted mistakes, written as a learner would (--mistake).
Tensor planted(const std::string& id, const Forward& f, const Tensor& d3) {
  if (id == "E1") return hadamard(matmul(transpose(f.W2), d3), article_softmax_derivative(f.Z2));
  if (id == "transpose") return hadamard(matmul(f.W2, d3), sigmoid_prime_of(f.Z2));
  if (id == "sigmoid_at_O") return hadamard(matmul(transpose(f.W2), d3), sigmoid_prime_of(f.O2));
  if (id == "sigmoid_formula_at_Z")
    return hadamard(matmul(transpose(f.W2), d3), map(f.Z2, [](double z) { return z * (1 - z); }));
  if (id == "factor") return 2.0 * (f.O3 - f.Y);
  /* outer_order */ return outer(f.O2, d3);
}
void planted_step(const std::string& id, Forward& f, double lr) {
  if (id == "sign") {  // W += lr Delta: uphill
    const Tensor d3 = f.O3 - f.Y;
    const Tensor d2 = hadamard(matmul(transpose(f.W2), d3), sigmoid_prime_of(f.Z2));
    const Tensor d1 = hadamard(matmul(transpose(f.W1), d2), sigmoid_prime_of(f.Z1));
    f.W2 = f.W2 + lr * outer(d3, f.O2);
    f.W1 = f.W1 + lr * outer(d2, f.O1);
    f.W0 = f.W0 + lr * outer(d1, f.O0);
    return;
  }
  // updated_weights: each W updated as soon as its Delta is known, the next delta computed with it
  const Tensor d3 = f.O3 - f.Y;
  f.W2 = f.W2 - lr * outer(d3, f.O2);
  const Tensor d2 = hadamard(matmul(transpose(f.W2), d3), sigmoid_prime_of(f.Z2));
  f.W1 = f.W1 - lr * outer(d2, f.O1);
  const Tensor d1 = hadamard(matmul(transpose(f.W1), d2), sigmoid_prime_of(f.Z1));
  f.W0 = f.W0 - lr * outer(d1, f.O0);
}

std::vector<Result> run(const Options& o, const std::function<void(Tape&)>& tracer) {
  Network net(NetworkOptions{.seed = 42});
  // The input: a made-up image (784 pixels drawn uniformly in [0, 1) by RandomState(0)), label 4.
  RandomState rng(0);
  Tensor x = Tensor::zeros(784);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.random_sample();
  Tensor y = Tensor::zeros(10);
  y[4] = 1.0;

  const ForwardValues a = forward_pass(net, x);
  const Forward f{net.W0.value, net.W1.value, net.W2.value, a.O0, a.Z1, a.O1,
                  a.Z2,         a.O2,         a.Z3,         a.O3, y};
  Tape tape;
  tracer(tape);
  const TapeForward tf = record_forward(tape, net, x, y);
  tape.backward(tf.C);
  const Tensor d3 = tf.Z3.grad(), d2 = tf.Z2.grad(), d1 = tf.Z1.grad();
  const Tensor D2 = net.W2.grad(), D1 = net.W1.grad(), D0 = net.W0.grad();

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
         hadamard(back, at_O(O))},
        {"sigmoid_formula_at_Z",
         fmt::format("O (1 - O) evaluated at Z{0} instead of O{0}: Z{0} (1 - Z{0}); sigmoid'(Z{0}) "
                     "= O{0} (1 - O{0})",
                     l),
         hadamard(back, at_Z(Z))},
    };
  };
  Candidate e1;
  e1.id = "E1";
  e1.diagnosis =
      "erratum E1: the article's code multiplies by softmax's derivative s (1 - s), s = "
      "softmax(Z2), where sigmoid'(Z2) = O2 (1 - O2) belongs: layer 2 is a sigmoid layer";
  e1.value = hadamard(back2, hadamard(s2, map(s2, [](double v) { return 1.0 - v; })));
  std::vector<Candidate> m2 = sigmoid_mistakes(back2, f.Z2, f.O2, 2);
  m2.push_back(std::move(e1));

  // Eq. (12) in the wrong order: each W updated as soon as its Delta is known.
  const Tensor W2u = f.W2 - kLr * D2;
  const Tensor d2u = hadamard(matmul(transpose(W2u), d3), sigmoid_prime_of(f.Z2));
  const Tensor W1u = f.W1 - kLr * outer(d2u, f.O1);
  const Tensor d1u = hadamard(matmul(transpose(W1u), d2u), sigmoid_prime_of(f.Z1));
  const auto order = [](int l, const Tensor& v) {
    return std::vector<Candidate>{
        {"updated_weights",
         fmt::format("Delta{0} comes from a delta computed with W{1} already updated; eq. (12) "
                     "computes all three Deltas from the weights before the step, then updates",
                     l, l + 1),
         v}};
  };

  const auto shape = [](const Tensor& t) { return fmt::format("{}", t.shape()); };
  std::vector<Check> checks = {
      {"delta3",
       "eq. (8)",
       fmt::format("delta3 = O3 - Y {}", shape(d3)),
       false,
       d3,
       [&](const Tensor& z) { return cost_from_Z3(z, f.Y); },
       f.Z3,
       {}},
      {"delta2", "eq. (9)",
       fmt::format("delta2 = (W2^T {} · delta3 {}) ⊙ sigmoid'(Z2) {}", shape(transpose(f.W2)),
                   shape(d3), shape(d2)),
       false, d2, [&](const Tensor& z) { return cost_from_Z2(f, z); }, f.Z2, m2},
      {"delta1", "eq. (10)",
       fmt::format("delta1 = (W1^T {} · delta2 {}) ⊙ sigmoid'(Z1) {}", shape(transpose(f.W1)),
                   shape(d2), shape(d1)),
       false, d1, [&](const Tensor& z) { return cost_from_Z1(f, z); }, f.Z1,
       sigmoid_mistakes(back1, f.Z1, f.O1, 1)},
  };
  const auto delta_check = [&](int l, const Tensor& D, const Tensor& delta, const Tensor& O,
                               std::function<double(const Tensor&)> loss, const Tensor& W,
                               std::vector<Candidate> m) {
    return Check{fmt::format("Delta{}", l),
                 "eq. (11)",
                 fmt::format("Delta{0} = delta{1} ⊗ O{0}, {2} ⊗ {3} = {4}", l, l + 1, shape(delta),
                             shape(O), shape(D)),
                 true,
                 D,
                 std::move(loss),
                 W,
                 std::move(m)};
  };
  const auto loss_W2 = [&](const Tensor& w) { return cost_from_Z3(matmul(w, f.O2), f.Y); };
  const auto loss_W1 = [&](const Tensor& w) { return cost_from_Z2(f, matmul(w, f.O1)); };
  const auto loss_W0 = [&](const Tensor& w) { return cost_from_Z1(f, matmul(w, f.O0)); };
  checks.push_back(delta_check(2, D2, d3, f.O2, loss_W2, f.W2, {}));
  checks.push_back(delta_check(1, D1, d2, f.O1, loss_W1, f.W1, {}));
  checks.push_back(delta_check(0, D0, d1, f.O0, loss_W0, f.W0, {}));
  for (int l = 2; l >= 0; --l) {
    const Tensor* D = l == 2 ? &D2 : l == 1 ? &D1 : &D0;
    Check c{fmt::format("step W{}", l),
            "eq. (12)",
            fmt::format("W{0} <- W{0} - lr · Delta{0}, all three Deltas from the weights before "
                        "the step; graded: (W{0} before - W{0} after) / lr {1}",
                        l, shape(*D)),
            false,
            *D,
            l == 2   ? std::function<double(const Tensor&)>(loss_W2)
            : l == 1 ? std::function<double(const Tensor&)>(loss_W1)
                     : std::function<double(const Tensor&)>(loss_W0),
            l == 2   ? f.W2
            : l == 1 ? f.W1
                     : f.W0,
            l == 1   ? order(1, outer(d2u, f.O1))
            : l == 0 ? order(0, outer(d1u, f.O0))
                     : std::vector<Candidate>{}};
    // (W before - W after) / lr carries the rounding of W - lr Delta, eps |W|, divided by lr.
    double w_max = 0.0;
    for (const double w : c.at.values()) w_max = std::max(w_max, std::abs(w));
    c.rounding = 16 * std::numeric_limits<double>::epsilon() * w_max / kLr;
    checks.push_back(c);
  }

  // The learner's step, run once for the three "step" quantities.
  std::optional<Forward> stepped;
  const auto step_of = [&](int l) -> Tensor {
    if (!stepped) {
      Forward g = f;
      if (o.mistake.empty()) {
        sgd_step(g, kLr);
      } else {
        planted_step(o.mistake, g, kLr);
      }
      stepped = g;
    }
    const Tensor& before = l == 2 ? f.W2 : l == 1 ? f.W1 : f.W0;
    const Tensor& after = l == 2 ? stepped->W2 : l == 1 ? stepped->W1 : stepped->W0;
    if (after.shape() != before.shape()) return after;
    return (1.0 / kLr) * (before - after);
  };
  const std::vector<std::function<Tensor()>> yours = {
      [&] { return delta3(f); },     [&] { return delta2(f, d3); }, [&] { return delta1(f, d2); },
      [&] { return Delta2(f, d3); }, [&] { return Delta1(f, d2); }, [&] { return Delta0(f, d1); },
      [&] { return step_of(2); },    [&] { return step_of(1); },    [&] { return step_of(0); },
  };
  // Which quantity each planted mistake replaces.
  const std::string& m = o.mistake;
  std::vector<Result> results;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const std::string& q = checks[i].name;
    if (m.empty()) {
      results.push_back(grade(checks[i], yours[i]));
    } else if ((m == "factor" && q == "delta3") || (m == "outer_order" && q == "Delta2") ||
               (q == "delta2" && (m == "E1" || m == "transpose" || m.find("sigmoid") == 0))) {
      results.push_back(grade(checks[i], [&] { return planted(m, f, d3); }));
    } else if ((m == "sign" || m == "updated_weights") && q.find("step") == 0) {
      results.push_back(grade(checks[i], yours[i]));
    }
  }
  return results;
}

}  // namespace

int main(int argc, char** argv) {
  return lab_main(
      {.name = "lab_02",
       .file = "labs/02_deltas.cpp",
       .about = "the article's deltas, eqs. (8)-(11), and the update, eq. (12)",
       .planted = {{"E1", "delta2",
                    "hadamard(matmul(transpose(f.W2), d3), article_softmax_derivative(f.Z2))"},
                   {"transpose", "delta2", "hadamard(matmul(f.W2, d3), sigmoid'(f.Z2))"},
                   {"sigmoid_at_O", "delta2",
                    "hadamard(matmul(transpose(f.W2), d3), sigmoid'(f.O2))"},
                   {"sigmoid_formula_at_Z", "delta2",
                    "hadamard(matmul(transpose(f.W2), d3), f.Z2 (1 - f.Z2))"},
                   {"factor", "delta3", "2.0 * (f.O3 - f.Y)"},
                   {"outer_order", "Delta2", "outer(f.O2, d3)"},
                   {"sign", "step", "f.W2 = f.W2 + lr * outer(d3, f.O2), and so for W1, W0"},
                   {"updated_weights", "step",
                    "f.W2 -= lr Delta2, then delta2 from the new f.W2, f.W1 -= lr Delta1, ..."}},
       .run = run},
      argc, argv);
}
