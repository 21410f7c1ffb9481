// Linear: a fully connected layer with a bias, Z = W · O + b, as PyTorch's nn.Linear, in the
// article's notation (W is out x in, samples are columns). Uses autodiff/ alone.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/autodiff/tape.hpp>

namespace stepgrad {

/// Two Parameters, W (out, in) and b (out,), and the two ops that apply them.
class Linear {
 public:
  /// W = randn(out, in) · sqrt(1 / in), drawn from `rng` as numpy's rng.randn(out, in) *
  /// np.sqrt(1 / in) (LeCun's scale: Z's variance about O's), and b = 0. The Parameters are
  /// named "W" and "b" followed by `index`: Linear(2, 3, rng, "0") holds W0 and b0.
  Linear(std::size_t in, std::size_t out, RandomState& rng, std::string_view index = "");

  Parameter W;  ///< (out, in)
  Parameter b;  ///< (out,)

  /// Z = W · O + b on O's tape: matmul, then add_to_columns. O is (in,) for one sample or
  /// (in, B) for B samples, one per column; Z is (out,) or (out, B).
  Var operator()(Var O);
  /// W, b: for sgd_step, zero_grad, gradcheck.
  std::vector<Parameter*> parameters() { return {&W, &b}; }
};

}  // namespace stepgrad
