// lab_01: one neuron's backward, 01_neuron's graph. Grades neuron_grad_Z and neuron_grad_W
// (labs/01_neuron_backward.cpp) against the tape and finite differences.
#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/ops.hpp>

#include "grader.hpp"
#include "labs.hpp"

using namespace stepgrad;
using namespace stepgrad::labs;

namespace {

// The planted mistakes, written as a learner would (--mistake).
Tensor planted_grad_Z(const std::string& id, const Neuron& n) {
  if (id == "sigmoid_at_O") return map(n.O, [](double o) { return fn::sigmoid_prime(o); });
  /* sigmoid_formula_at_Z */ return map(n.Z, [](double z) { return z * (1.0 - z); });
}

std::vector<Result> run(const Options& o, const std::function<void(Tape&)>& tracer) {
  Neuron n;
  n.O0 = Tensor::vector({0.5, 0.1, 0.9});
  Parameter W("W", Tensor::matrix({{0.4, -0.2, 0.7}}));
  n.W = W.value;
  Tape tape;
  tracer(tape);
  const Var z = matmul(tape.param(W), tape.input(n.O0, "O0")).named("Z");
  const Var out = sigmoid(z).named("O");
  n.Z = z.value();
  n.O = out.value();
  tape.backward(out);
  const Tensor tape_grad_Z = z.grad();
  const Tensor tape_grad_W = W.grad();

  const double s = n.O[0];
  Check gz{.name = "grad_Z",
           .equation = "eq. (5)",
           .formula = "grad_Z = sigmoid'(Z) = O (1 - O) (1,)",
           .tape = tape_grad_Z,
           .loss = [](const Tensor& Z) { return fn::sigmoid(Z[0]); },
           .at = n.Z,
           .mistakes = {
               {"sigmoid_at_O",
                "sigmoid' taken at O instead of Z: sigmoid'(O) = sigmoid(O) (1 - sigmoid(O)); "
                "the derivative is sigmoid'(Z) = O (1 - O)",
                Tensor::vector({fn::sigmoid(s) * (1.0 - fn::sigmoid(s))})},
               {"sigmoid_formula_at_Z",
                "O (1 - O) evaluated at Z instead of O: Z (1 - Z); sigmoid'(Z) = O (1 - O)",
                Tensor::vector({n.Z[0] * (1.0 - n.Z[0])})},
           }};
  const Tensor O0 = n.O0;
  Check gw{.name = "grad_W",
           .equation = "the chain rule",
           .formula = "grad_W = grad_Z ⊗ O0, (1,) ⊗ (3,) = (1, 3)",
           .outer = true,
           .tape = tape_grad_W,
           .loss = [O0](const Tensor& w) { return fn::sigmoid(matmul(w, O0)[0]); },
           .at = n.W,
           .mistakes = {}};
  std::vector<Result> results;
  if (o.mistake.empty() || o.mistake.find("sigmoid") == 0)
    results.push_back(grade(
        gz, [&] { return o.mistake.empty() ? neuron_grad_Z(n) : planted_grad_Z(o.mistake, n); }));
  if (o.mistake.empty() || o.mistake == "outer_order")
    results.push_back(grade(gw, [&] {
      if (!o.mistake.empty()) return outer(n.O0, tape_grad_Z);  // planted
      return neuron_grad_W(n, tape_grad_Z);
    }));
  return results;
}

}  // namespace

int main(int argc, char** argv) {
  return lab_main({.name = "lab_01",
                   .file = "labs/01_neuron_backward.cpp",
                   .about = "one neuron's backward: dO/dZ and dO/dW for Z = W · O0, O = sigmoid(Z)",
                   .planted = {{"sigmoid_at_O", "grad_Z", "map(n.O, fn::sigmoid_prime)"},
                               {"sigmoid_formula_at_Z", "grad_Z", "map(n.Z, z (1 - z))"},
                               {"outer_order", "grad_W", "outer(n.O0, grad_Z)"}},
                   .run = run},
                  argc, argv);
}
