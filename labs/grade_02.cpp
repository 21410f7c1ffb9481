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

#include "article_checks.hpp"
#include "grader.hpp"
#include "labs.hpp"

using namespace stepgrad;
using namespace stepgrad::labs;

namespace {

constexpr double kLr = 0.001;  // the article's t_rate

Tensor sigmoid_prime_of(const Tensor& z) {
  return map(z, [](double v) { return fn::sigmoid_prime(v); });
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
  const Network net(NetworkOptions{.seed = 42});
  // The input: a made-up image (784 pixels drawn uniformly in [0, 1) by RandomState(0)), label 4.
  RandomState rng(0);
  Tensor x = Tensor::zeros(784);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.random_sample();
  Tensor y = Tensor::zeros(10);
  y[4] = 1.0;
  const ArticleChecks a = article_checks(net, x, y, kLr, tracer);
  const Forward& f = *a.f;
  const Tensor &d3 = a.delta3, &d2 = a.delta2, &d1 = a.delta1;
  const std::vector<Check>& checks = a.checks;

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
    return subtracted(before, after, kLr);
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
