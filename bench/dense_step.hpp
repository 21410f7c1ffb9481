// The dense fused step: the yardstick of every per-sample benchmark (issues 16 and 30). The
// article's per-sample SGD step (fixed recipe, sigmoid, no biases) with every column of W0
// visited, zero pixels included, but W0 touched once per step. Two versions, as llm.c keeps
// them: DenseFusedStep, plain C++ loops a reader opens first, and FastDenseFusedStep, the same
// numbers as fast as we can write them (SIMD registers, several rows at a time, the library's
// fastest kernels for the small layers). bench/test_dense_step.cpp checks the two equal bit for
// bit, and both equal to FusedDeltasStep. stepgrad_bench prints each engine's speed as a ratio to
// the fast one (bench/README.md).
#pragma once

#include <cstddef>

#include <stepgrad/autodiff/tensor.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad::bench {

// combine_lanes of Note [Summation order] (autodiff/kernels.hpp, internal to autodiff), written
// again for the dense steps: element l of the four groups of 8 partial sums first,
// (0 + 16) + (8 + 24), then the 8 results pairwise. T is double, or a SIMD register holding
// several l at once (the fast step).
template <class T>
T combine_groups(const T& g0, const T& g1, const T& g2, const T& g3) {
  return (g0 + g2) + (g1 + g3);
}
inline double combine_eight(const double* v) {
  return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

/// What both dense steps hold: their copies of W0, W1, W2, the step's vectors, and W0's update
/// left pending for the next step (Note [One pass over W0]).
class DenseStepState {
 public:
  const Tensor& W0() const { return W0_; }  ///< (128, 784)
  const Tensor& W1() const { return W1_; }  ///< (64, 128)
  const Tensor& W2() const { return W2_; }  ///< (10, 64)

 protected:
  /// Copies W0, W1, W2 of `net`, the article's network (no biases, sigmoid): another is refused
  /// in one line that starts with `who`.
  DenseStepState(const Network& net, const char* who);
  /// Refuses, naming `who`, a sample that is not x (784,) with y (10,).
  static void require_sample(const Tensor& x, const Tensor& y, const char* who);
  /// The end of a step: this sample's delta1 and O0 = x wait for the next step's pass over W0.
  void keep_pending(const Tensor& x, double lr);
  /// After finish() applied the pending update: nothing waits any more.
  void clear_pending();

  Tensor W0_, W1_, W2_;
  Tensor Z1_, O1_, Z2_, O2_, Z3_, O3_;  // (128,) (64,) (10,): eqs. (2)-(4)
  Tensor delta3_, delta2_, delta1_;     // eqs. (8)-(10)
  Tensor O0_pending_;                   // (784,): the last sample's O0 ...
  Tensor delta1_pending_;               // (128,): ... and delta1, for W0's update
  double lr_pending_ = 0.0;
};

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
class DenseFusedStep : public DenseStepState {
 public:
  /// Copies W0, W1, W2 of `net` (the article's network: no biases, sigmoid).
  explicit DenseFusedStep(const Network& net) : DenseStepState(net, "DenseFusedStep") {}

  /// eqs. (1)-(12) for one sample x (784,) with one-hot y (10,), W0's update left pending
  /// (Note [One pass over W0]). Returns O3 of the forward pass.
  const Tensor& step(const Tensor& x, const Tensor& y, double lr);

  /// Applies the pending update of W0: W0, W1, W2 are then the weights after every step.
  void finish();
};

// Note [The fastest dense step]
// What makes a dense step fast on this machine, measured (bench/README.md, "The yardstick"): W0
// is about 90% of the step's arithmetic (200,704 of 227,200 multiply-adds) and 0.8 MB, so the step
// is a pass over W0 streamed from L2, each row updated with the last sample's delta1 and multiplied
// by this sample's O0 while it is in registers (Note [One pass over W0]). The 32 partial sums of
// Note [Summation order] live in SIMD registers (4 with AVX-512, 8 with AVX2), two rows at a time
// with AVX-512 so that each block of O0 and of the last O0 is loaded once for both; the rest of the
// step (W1, W2, the sigmoids, softmax) calls the same fast kernels as FusedDeltasStep (matvec,
// matvec_transposed, sub_outer, the vectorised sigmoid), which are as fast on dense vectors as
// plain loops can be.
class FastDenseFusedStep : public DenseStepState {
 public:
  /// Copies W0, W1, W2 of `net` (the article's network: no biases, sigmoid).
  explicit FastDenseFusedStep(const Network& net) : DenseStepState(net, "FastDenseFusedStep") {}

  /// DenseFusedStep::step's numbers, bit for bit.
  const Tensor& step(const Tensor& x, const Tensor& y, double lr);
  /// DenseFusedStep::finish.
  void finish();
};

}  // namespace stepgrad::bench
