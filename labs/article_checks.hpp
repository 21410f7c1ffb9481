// The article's network at one sample, ready to grade: the forward pass, the tape's deltas, and
// the grader's Check of every quantity of eqs. (8)-(12) with its catalogued mistakes (Note
// [Naming a mistake]). Lab 02 grades the learner's C++ against these checks, the page's "Your
// turn" the learner's typed expressions (your_turn.hpp): one catalogue for both.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/tape.hpp>
#include <stepgrad/autodiff/tensor.hpp>
#include <stepgrad/nn/network.hpp>

#include "grader.hpp"
#include "labs.hpp"

namespace stepgrad::labs {

struct ArticleChecks {
  std::shared_ptr<const Forward> f;  ///< the forward pass; the checks' losses read it
  Tensor delta3, delta2, delta1;     ///< the tape's dC/dZ3, dC/dZ2, dC/dZ1
  Tensor Delta2, Delta1, Delta0;     ///< the tape's dC/dW2, dC/dW1, dC/dW0
  double lr = 0.0;                   ///< eq. (12)'s lambda
  /// delta3, delta2, delta1, Delta2, Delta1, Delta0, "step W2", "step W1", "step W0".
  std::vector<Check> checks;
  /// The check named `name`; throws std::invalid_argument for another name.
  const Check& check(std::string_view name) const;
};

/// The checks of eqs. (8)-(12) for the sample (x, y) through `net` (the article's network: sigmoid
/// hidden layers, no biases), the tape recorded with `tracer` attached.
ArticleChecks article_checks(
    const Network& net, const Tensor& x, const Tensor& y, double lr,
    const std::function<void(Tape&)>& tracer = [](Tape&) {});

/// What an update subtracted, (before - after) / lr: a step's "step W" quantity, graded against
/// Delta (eq. 12). A result of another shape is returned as it is, for the diagnosis.
Tensor subtracted(const Tensor& before, const Tensor& after, double lr);

}  // namespace stepgrad::labs
