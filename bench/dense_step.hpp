// The dense fused step: issue 16's yardstick. The article's per-sample SGD step (fixed recipe,
// sigmoid, no biases) written as plain C++ loops over dense arrays, the way a careful programmer
// would fuse it by hand: every column of W0 is visited, zero pixels included, but W0 is touched
// once per step. stepgrad_bench prints each engine's speed as a ratio to it (bench/README.md).
#pragma once

#include <cstddef>

#include <stepgrad/autodiff/tensor.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad::bench {

// Note [One pass over W0]
// The step needs W0 twice: Z1 = W0 · O0 at the start, W0 -= lr · (delta1 ⊗ O0) at the end.
// Nothing in between reads W0 (delta1 comes from W1, eq. 10), so the update can wait for the
// next step and share its pass: row i of W0 is updated with the last sample's delta1[i] and
// O0, then multiplied by the new O0, while it is in registers. The weights each step sees are
// exactly those of the sequential step; finish() applies the last pending update.
//
// Each sum adds its terms in the order of Note [Summation order] (autodiff/kernels.hpp: term p
// to partial sum p % 32, the partial sums combined in one fixed order), so this step trains
// bit for bit the weights of FusedDeltasStep (bench/test_dense_step.cpp). The 32 partial sums
// also let the compiler vectorise the plain loops without -ffast-math.
class DenseFusedStep {
 public:
  /// Copies W0, W1, W2 of `net` (the article's network: no biases, sigmoid).
  explicit DenseFusedStep(const Network& net);

  /// eqs. (1)-(12) for one sample x (784,) with one-hot y (10,), W0's update left pending
  /// (Note [One pass over W0]). Returns O3 of the forward pass.
  const Tensor& step(const Tensor& x, const Tensor& y, double lr);

  /// Applies the pending update of W0: W0, W1, W2 are then the weights after every step.
  void finish();

  const Tensor& W0() const { return W0_; }  ///< (128, 784)
  const Tensor& W1() const { return W1_; }  ///< (64, 128)
  const Tensor& W2() const { return W2_; }  ///< (10, 64)

 private:
  Tensor W0_, W1_, W2_;
  Tensor Z1_, O1_, Z2_, O2_, Z3_, O3_;  // (128,) (64,) (10,): eqs. (2)-(4)
  Tensor delta3_, delta2_, delta1_;     // eqs. (8)-(10)
  Tensor O0_pending_;                   // (784,): the last sample's O0 ...
  Tensor delta1_pending_;               // (128,): ... and delta1, for W0's update
  double lr_pending_ = 0.0;
};

}  // namespace stepgrad::bench
