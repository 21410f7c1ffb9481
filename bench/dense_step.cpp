// The dense fused step (dense_step.hpp): plain loops, every weight visited, W0 once per step.
#include "dense_step.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <stepgrad/autodiff/functions.hpp>

namespace stepgrad::bench {

namespace {

constexpr std::size_t kLanes = 32;  // Note [Summation order] in autodiff/kernels.hpp

// The 32 partial sums added in the fixed order of Note [Summation order] (combine_lanes).
double combine(const double* lane) {
  double v[8];
  for (std::size_t l = 0; l < 8; ++l) {
    v[l] = combine_groups(lane[l], lane[8 + l], lane[16 + l], lane[24 + l]);
  }
  return combine_eight(v);
}

// The loops are plain; __restrict (no array overlaps another) lets the compiler keep the 32
// partial sums in registers instead of memory.

// Row i of W (M, K) becomes W[i] - lr · (d[i] x_old) and z[i] = W[i] · x: the deferred update
// of the last step and this step's product in one pass (Note [One pass over W0]). The sizes
// are the network's, fixed at compile time.
template <std::size_t M, std::size_t K>
void update_then_multiply(double* __restrict w, double lr, const double* __restrict d,
                          const double* __restrict x_old, const double* __restrict x,
                          double* __restrict z) {
  constexpr std::size_t kFull = K / kLanes * kLanes;
  for (std::size_t i = 0; i < M; ++i) {
    double* wi = w + i * K;
    const double di = d[i];
    double lane[kLanes] = {};
    for (std::size_t p = 0; p < kFull; p += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) {
        wi[p + l] -= lr * (di * x_old[p + l]);  // eq. (12), the last sample's
        lane[l] += wi[p + l] * x[p + l];        // eq. (2), this sample's
      }
    }
    for (std::size_t l = 0; l < K - kFull; ++l) {
      wi[kFull + l] -= lr * (di * x_old[kFull + l]);
      lane[l] += wi[kFull + l] * x[kFull + l];
    }
    z[i] = combine(lane);
  }
}

// z (M) = W (M, K) · o.
template <std::size_t M, std::size_t K>
void multiply(const double* __restrict w, const double* __restrict o, double* __restrict z) {
  constexpr std::size_t kFull = K / kLanes * kLanes;
  for (std::size_t i = 0; i < M; ++i) {
    const double* wi = w + i * K;
    double lane[kLanes] = {};
    for (std::size_t p = 0; p < kFull; p += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) lane[l] += wi[p + l] * o[p + l];
    }
    for (std::size_t l = 0; l < K - kFull; ++l) lane[l] += wi[kFull + l] * o[kFull + l];
    z[i] = combine(lane);
  }
}

// delta (k) = (W^T · upstream) ⊙ O (1 - O) for W (m, k): eqs. (9)-(10) with sigmoid' written
// from the layer's output. Eight outputs at a time, so the innermost loop runs along W's rows.
void back(std::size_t m, std::size_t k, const double* __restrict w,
          const double* __restrict upstream, const double* __restrict o, double* __restrict delta) {
  constexpr std::size_t kWidth = 8;
  for (std::size_t j0 = 0; j0 < k; j0 += kWidth) {
    double lane[kLanes][kWidth] = {};
    for (std::size_t p = 0; p < m; ++p) {
      for (std::size_t l = 0; l < kWidth; ++l) {
        lane[p % kLanes][l] += w[p * k + j0 + l] * upstream[p];
      }
    }
    for (std::size_t l = 0; l < kWidth; ++l) {
      double column[kLanes];
      for (std::size_t q = 0; q < kLanes; ++q) column[q] = lane[q][l];
      const double s = o[j0 + l];
      delta[j0 + l] = combine(column) * (s * (1.0 - s));
    }
  }
}

// W (m, k) -= lr · (u ⊗ v): eqs. (11)-(12).
void sub_outer(std::size_t m, std::size_t k, double* __restrict w, double lr,
               const double* __restrict u, const double* __restrict v) {
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < k; ++j) w[i * k + j] -= lr * (u[i] * v[j]);
  }
}

}  // namespace

DenseStepState::DenseStepState(const Network& net, const char* who)
    : W0_(net.W0.value),
      W1_(net.W1.value),
      W2_(net.W2.value),
      Z1_(Tensor::zeros(kLayerSizes[1])),
      O1_(Tensor::zeros(kLayerSizes[1])),
      Z2_(Tensor::zeros(kLayerSizes[2])),
      O2_(Tensor::zeros(kLayerSizes[2])),
      Z3_(Tensor::zeros(kLayerSizes[3])),
      O3_(Tensor::zeros(kLayerSizes[3])),
      delta3_(Tensor::zeros(kLayerSizes[3])),
      delta2_(Tensor::zeros(kLayerSizes[2])),
      delta1_(Tensor::zeros(kLayerSizes[1])),
      O0_pending_(Tensor::zeros(kLayerSizes[0])),
      delta1_pending_(Tensor::zeros(kLayerSizes[1])) {
  const NetworkOptions& opt = net.options();
  if (opt.bias || opt.activation != Activation::sigmoid) {
    throw std::invalid_argument(std::string(who) +
                                ": the article's network only (no biases, sigmoid)");
  }
}

void DenseStepState::require_sample(const Tensor& x, const Tensor& y, const char* who) {
  if (x.size() != kLayerSizes[0] || y.size() != kLayerSizes[3]) {
    throw std::invalid_argument(std::string(who) + "::step: needs x (784,) and y (10,)");
  }
}

void DenseStepState::keep_pending(const Tensor& x, double lr) {
  std::copy(delta1_.values().begin(), delta1_.values().end(), delta1_pending_.data());
  std::copy(x.values().begin(), x.values().end(), O0_pending_.data());
  lr_pending_ = lr;
}

void DenseStepState::clear_pending() {
  lr_pending_ = 0.0;
  delta1_pending_.fill(0.0);
}

const Tensor& DenseFusedStep::step(const Tensor& x, const Tensor& y, double lr) {
  constexpr std::size_t n0 = kLayerSizes[0], n1 = kLayerSizes[1], n2 = kLayerSizes[2],
                        n3 = kLayerSizes[3];
  require_sample(x, y, "DenseFusedStep");
  // eq. (2), with the last step's W0 update in the same pass (Note [One pass over W0]). Before
  // the first step delta1_pending_ is 0 and W0 - lr · 0 is W0, bit for bit.
  update_then_multiply<n1, n0>(W0_.data(), lr_pending_, delta1_pending_.data(), O0_pending_.data(),
                               x.data(), Z1_.data());
  for (std::size_t i = 0; i < n1; ++i) O1_[i] = fn::sigmoid(Z1_[i]);
  multiply<n2, n1>(W1_.data(), O1_.data(), Z2_.data());  // eq. (3)
  for (std::size_t i = 0; i < n2; ++i) O2_[i] = fn::sigmoid(Z2_[i]);
  multiply<n3, n2>(W2_.data(), O2_.data(), Z3_.data());  // eq. (4)
  fn::softmax(Z3_, O3_);

  for (std::size_t i = 0; i < n3; ++i) delta3_[i] = O3_[i] - y[i];       // eq. (8)
  back(n3, n2, W2_.data(), delta3_.data(), O2_.data(), delta2_.data());  // eq. (9)
  back(n2, n1, W1_.data(), delta2_.data(), O1_.data(), delta1_.data());  // eq. (10)

  // eqs. (11)-(12) after every delta, from the weights before the update; W0's waits.
  sub_outer(n3, n2, W2_.data(), lr, delta3_.data(), O2_.data());
  sub_outer(n2, n1, W1_.data(), lr, delta2_.data(), O1_.data());
  keep_pending(x, lr);
  return O3_;
}

void DenseFusedStep::finish() {
  constexpr std::size_t n0 = kLayerSizes[0], n1 = kLayerSizes[1];
  sub_outer(n1, n0, W0_.data(), lr_pending_, delta1_pending_.data(), O0_pending_.data());
  clear_pending();
}

}  // namespace stepgrad::bench
