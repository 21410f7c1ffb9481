// lab_05: find the bug. A small network of the two ops in labs/05_find_the_bug.cpp:
// Z1 = W0 · O0, O1 = tanh_op(Z1), Z2 = W1 · O1, O2 = softplus_op(Z2), C = sum(O2). Grades every
// gradient of the backward sweep, in its order, against the engine's own ops (tanh, and softplus
// as log(1 + exp)) and finite differences, and says where the sweep first goes wrong.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/random.hpp>

#include "grader.hpp"
#include "labs.hpp"

using namespace stepgrad;
using namespace stepgrad::labs;

namespace {

struct Net {
  Var Z1, O1, Z2, O2, C;
};

template <class Tanh, class Softplus>
Net record(Tape& t, Parameter& W0, Parameter& W1, const Tensor& x, Tanh tanh_f,
           Softplus softplus_f) {
  Net n;
  n.Z1 = matmul(t.param(W0), t.input(x, "O0")).named("Z1");
  n.O1 = tanh_f(n.Z1).named("O1");
  n.Z2 = matmul(t.param(W1), n.O1).named("Z2");
  n.O2 = softplus_f(n.Z2).named("O2");
  n.C = sum(n.O2).named("C");
  return n;
}

double softplus_of(double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))); }
double cost_from_Z2(const Tensor& Z2) {
  double c = 0.0;
  for (const double v : Z2.values()) c += softplus_of(v);
  return c;
}
Tensor tanh_of(const Tensor& z) {
  return map(z, [](double v) { return fn::tanh(v); });
}

std::vector<Result> run(const Options&, const std::function<void(Tape&)>& tracer) {
  RandomState rng(3);
  const Tensor x = rng.randn(1, 4);
  const Tensor O0 = Tensor::vector(x.values());
  Parameter W0("W0", rng.randn(3, 4)), W1("W1", rng.randn(2, 3));
  Parameter R0("W0", W0.value), R1("W1", W1.value);

  // The engine's answer.
  Tape ref;
  const Net r = record(
      ref, R0, R1, O0, [](Var z) { return stepgrad::tanh(z); },
      [](Var z) { return stepgrad::softplus(z); });
  ref.backward(r.C);
  // Yours.
  Tape tape;
  tracer(tape);
  const Net y = record(tape, W0, W1, O0, tanh_op, softplus_op);
  tape.backward(y.C);

  const Tensor W0v = W0.value, W1v = W1.value;
  const auto from_O1 = [W1v](const Tensor& o1) { return cost_from_Z2(matmul(W1v, o1)); };
  const auto from_Z1 = [from_O1](const Tensor& z1) { return from_O1(tanh_of(z1)); };
  struct Q {
    const char* name;
    const char* made_by;  // the rule that gives this gradient
    Tensor tape, yours, at;
    std::function<double(const Tensor&)> loss;
  };
  std::vector<Q> qs = {
      {"grad Z2", "O2 = softplus_op(Z2)", r.Z2.grad(), y.Z2.grad(), y.Z2.value(), cost_from_Z2},
      {"grad O1", "Z2 = W1 · O1", r.O1.grad(), y.O1.grad(), y.O1.value(), from_O1},
      {"grad W1", "Z2 = W1 · O1", R1.grad(), W1.grad(), W1v,
       [&](const Tensor& w) { return cost_from_Z2(matmul(w, y.O1.value())); }},
      {"grad Z1", "O1 = tanh_op(Z1)", r.Z1.grad(), y.Z1.grad(), y.Z1.value(), from_Z1},
      {"grad W0", "Z1 = W0 · O0", R0.grad(), W0.grad(), W0v,
       [&](const Tensor& w) { return from_Z1(matmul(w, O0)); }},
  };
  std::vector<Result> results;
  const Q* first = nullptr;
  for (const Q& q : qs) {
    Check c{q.name, "the backward sweep", q.made_by, false, q.tape, q.loss, q.at, {}};
    Result res = grade(c, [&] { return q.yours; });
    if (!res.passed) {
      if (first == nullptr) {
        first = &q;
        res.diagnosis = fmt::format(
            "[first_wrong] the first wrong gradient of the backward sweep; the gradients it is "
            "made from are right, so the rule of {} is wrong: read its line in --trace",
            q.made_by);
      } else {
        res.diagnosis = fmt::format("[inherited] wrong because {} is; fix that first", first->name);
      }
    }
    results.push_back(res);
  }
  return results;
}

}  // namespace

int main(int argc, char** argv) {
  return lab_main({.name = "lab_05",
                   .file = "labs/05_find_the_bug.cpp",
                   .about = "find the bug: one of two ops has a wrong backward rule",
                   .planted = {},
                   .run = run},
                  argc, argv);
}
