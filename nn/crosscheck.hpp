// The three-way gradient cross-check (tape == hand-derived deltas == finite differences) and
// the measurements of the article's errata. Tests assert on these reports; tutorials print them.
#pragma once

#include <string>
#include <vector>

#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad {

/// The tape's gradients of the categorical cross-entropy C for one sample (or a minibatch),
/// left in the network's Parameters (after zero_grad). Returns the forward values.
TapeForward tape_gradients(Tape& tape, Network& net, const Tensor& x, const Tensor& y);

/// One parameter's three-way agreement.
struct GradientAgreement {
  std::string name;                 ///< "W0"
  std::string delta_name;           ///< "Delta0" (or "delta1" for the bias b0)
  Comparison tape_vs_deltas;        ///< grad_W vs the `fixed` recipe's Delta
  GradCheckReport tape_vs_numeric;  ///< grad_W vs finite differences of C
};

struct CrossCheck {
  double loss = 0.0;                          ///< C at these weights
  std::vector<GradientAgreement> parameters;  ///< W0, W1, W2 (and b0, b1, b2 with biases)
  /// tape == deltas to rtol_deltas and tape == finite differences (their own rtol, 1e-7).
  bool passed(double rtol_deltas = 1e-12) const;
};

/// tape gradients vs the `fixed` deltas vs finite differences (max_elements per parameter,
/// 0 = every element) for one sample.
CrossCheck cross_check(Network& net, const Tensor& x, const Tensor& y,
                       std::size_t max_elements = 0);

/// Erratum E1 for one weight: the `article` recipe's Delta against the true gradient.
struct DeltaDistortion {
  std::string name;   ///< "Delta1"
  double norm_ratio;  ///< |Delta_article| / |Delta_true| (Frobenius norms)
  double cosine;      ///< <Delta_article, Delta_true> / (|.| |.|)
  Comparison cmp;     ///< Delta_article vs Delta_true
};
/// Delta2, Delta1, Delta0 of the `article` recipe against the `fixed` one for one sample.
std::vector<DeltaDistortion> measure_erratum_e1(const Network& net, const Tensor& x,
                                                const Tensor& y);
std::string format_erratum_e1(const std::vector<DeltaDistortion>& ds);

}  // namespace stepgrad
