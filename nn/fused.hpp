// The hand-derived SGD step of nn/deltas.cpp, fused for speed: one sample, no allocation, each
// weight read or written as few times as the equations allow, and W0 touched only in the
// columns where the image is not black (kernels::sub_outer in the fast kernels). deltas_sgd_step
// stays the readable oracle; tests/nn/test_fused.cpp proves the two give the same bits.
#pragma once

#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad {

class FusedDeltasStep {
 public:
  /// eqs. (1)-(12) for one sample x (784,) with one-hot y (10,): forward, backward (with the
  /// recipe's eq. (9)), then W_l -= lr · Delta_l. Returns O3 of the forward pass.
  const Tensor& step(Network& net, const Tensor& x, const Tensor& y, Recipe recipe, double lr);

 private:
  Tensor Z1_, O1_, Z2_, O2_, Z3_, O3_;  // (128,) (64,) (10,): eqs. (2)-(4)
  Tensor delta3_, delta2_, delta1_;     // eqs. (8)-(10)
  Tensor softmax_z2_;                   // the article's eq. (9) needs softmax(Z2)
  Tensor true_delta2_;                  // article_rescaled: the length delta2 is given
};

}  // namespace stepgrad
