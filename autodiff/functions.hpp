// Numerically careful scalar functions and softmax on plain tensors. The tape's ops and the
// hand-derived equations in nn/ both use these, so their values agree to the last bit.
#pragma once

#include <cmath>

#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad::fn {

/// eq. (5), evaluated without overflow: for x < 0, e^x / (1 + e^x) never computes e^-x,
/// which overflows for x < -709 (erratum E5).
inline double sigmoid(double x) {
  // Both branches as one expression, e = e^-x for x >= 0, e^x below: the same bits for every
  // x (a NaN keeps its sign), without a branch that a network's pre-activations, half of them
  // negative, mispredict.
  const double e = std::exp(x >= 0.0 ? -x : x);
  return (x >= 0.0 ? 1.0 : e) / (1.0 + e);
}

/// fn::sigmoid of every element: out takes z's shape (z and out may be the same tensor). The
/// same bits as the scalar function, computed several elements at a time where the fast kernels
/// can (kernels::sigmoid).
void sigmoid(const Tensor& z, Tensor& out);
/// Whether that sigmoid runs several elements at a time on this machine, its exp found equal to
/// std::exp's (kernels_fast.cpp: four lanes with AVX2 and FMA, two elsewhere, the page's
/// WebAssembly included); false with the reference kernels.
bool sigmoid_vectorised();

/// sigmoid'(x) = s (1 - s), eq. (5).
inline double sigmoid_prime(double x) {
  const double s = sigmoid(x);
  return s * (1.0 - s);
}

/// tanh(x), the same bits on every platform: musl's algorithm (the page's libm) in plain
/// arithmetic, within 2.1 ulps of the exact value (Note [One tanh for the page and the programs]).
/// Every tanh of stepgrad's is this one: the tape's op, the networks' activation, tanh_prime.
double tanh(double x);

/// tanh'(x) = 1 - tanh(x)^2.
inline double tanh_prime(double x) {
  const double t = fn::tanh(x);
  return 1.0 - t * t;
}

/// max(x, 0).
inline double relu(double x) { return x > 0.0 ? x : 0.0; }
/// relu'(x): 1 where x > 0, else 0 (the kink at 0 gets 0, as in PyTorch).
inline double relu_prime(double x) { return x > 0.0 ? 1.0 : 0.0; }

/// log clamped below at -100, as PyTorch's BCELoss: never -inf (R7 in docs/reliability.md).
inline constexpr double kLogFloor = -100.0;
inline double clamped_log(double x) {
  const double l = std::log(x);
  return l > kLogFloor ? l : kLogFloor;  // also maps log(0) = -inf and NaN-free inputs to -100
}

/// Softmax of a vector or of each column of a matrix, eq. (6): e^(z - max z) / sum.
void softmax(const Tensor& z, Tensor& out);
Tensor softmax(const Tensor& z);
/// log softmax = z - max z - log(sum e^(z - max z)), per column.
void log_softmax(const Tensor& z, Tensor& out);
Tensor log_softmax(const Tensor& z);

/// Calls f(first, stride, length) for each softmax group: the whole vector, or each column
/// of a matrix (elements first, first + stride, ...).
template <class F>
void for_each_column(const Shape& s, F f) {
  for (std::size_t c = 0; c < s.cols; ++c) f(c, s.cols, s.rows);
}

}  // namespace stepgrad::fn
