// lab_03: softmax with cross-entropy, backward, for a minibatch of 4 samples (the columns of Z).
// Grades softmax_ce_grad (labs/03_softmax_cross_entropy.cpp) against the tape's
// cross_entropy_logits and finite differences.
#include <cmath>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/random.hpp>

#include "grader.hpp"
#include "labs.hpp"

using namespace stepgrad;
using namespace stepgrad::labs;

namespace {

// The planted mistakes, written as a learner would (--mistake).
Tensor planted(const std::string& id, const Tensor& Z, const Tensor& Y) {
  Tensor g(Z.shape());
  if (id == "axis") {  // softmax along each row: over the samples instead of the classes
    for (std::size_t r = 0; r < Z.rows(); ++r) {
      double m = Z(r, 0), s = 0.0;
      for (std::size_t c = 0; c < Z.cols(); ++c) m = std::max(m, Z(r, c));
      for (std::size_t c = 0; c < Z.cols(); ++c) s += std::exp(Z(r, c) - m);
      for (std::size_t c = 0; c < Z.cols(); ++c) g(r, c) = std::exp(Z(r, c) - m) / s - Y(r, c);
    }
    return g;
  }
  const Tensor O = fn::softmax(Z);
  if (id == "E3") {  // dC/dO = -Y / O, times the article's softmax "derivative" O (1 - O)
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = (-Y[i] / O[i]) * (O[i] * (1.0 - O[i]));
    return g;
  }
  /* factor: the mean over the batch, where C is the sum */ return (1.0 / 4.0) * (O - Y);
}

std::vector<Result> run(const Options& o, const std::function<void(Tape&)>& tracer) {
  RandomState rng(1);
  const Tensor Z = 2.0 * rng.randn(10, 4);
  Tensor Y = Tensor::zeros(10, 4);
  const std::size_t labels[] = {3, 7, 0, 9};
  for (std::size_t c = 0; c < 4; ++c) Y(labels[c], c) = 1.0;

  Tape tape;
  tracer(tape);
  const Var z = tape.variable(Z, "Z");
  const Var C = cross_entropy_logits(z, tape.input(Y, "Y")).named("C");
  tape.backward(C);

  const Tensor O = fn::softmax(Z);
  const Tensor by_rows = transpose(fn::softmax(transpose(Z)));
  Check c{.name = "grad_Z",
          .equation = "softmax + cross-entropy",
          .formula = "grad_Z = softmax(Z) - Y, softmax over each column (10, 4)",
          .tape = z.grad(),
          .loss =
              [Y](const Tensor& zz) {
                const Tensor lp = fn::log_softmax(zz);
                double s = 0.0;
                for (std::size_t i = 0; i < lp.size(); ++i) s -= Y[i] * lp[i];
                return s;
              },
          .at = Z,
          .mistakes = {
              {"axis",
               "softmax summed over the wrong axis: each row (a class across the batch) sums to "
               "1; a column is a sample, and softmax normalises each column",
               by_rows - Y},
              {"E3",
               "erratum E3: dC/dO3 = -Y / O3 times only the diagonal of softmax's Jacobian, "
               "O3 (1 - O3); the whole Jacobian gives softmax(Z) - Y",
               hadamard(-1.0 * Y, map(O, [](double v) { return 1.0 - v; }))},
          }};
  return {grade(
      c, [&] { return o.mistake.empty() ? softmax_ce_grad(Z, Y) : planted(o.mistake, Z, Y); })};
}

}  // namespace

int main(int argc, char** argv) {
  return lab_main(
      {.name = "lab_03",
       .file = "labs/03_softmax_cross_entropy.cpp",
       .about = "softmax with cross-entropy, backward, for a minibatch (a column is a sample)",
       .planted = {{"axis", "grad_Z", "softmax along each row of Z, minus Y"},
                   {"E3", "grad_Z", "(-Y / O) ⊙ O (1 - O), O = softmax(Z)"},
                   {"factor", "grad_Z", "(1.0 / 4) * (softmax(Z) - Y): the batch's mean"}},
       .run = run},
      argc, argv);
}
