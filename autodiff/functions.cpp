// The sigmoid of a tensor, and softmax and log-softmax with the max shift (eq. 6; R6 in
// docs/reliability.md).
#include <stepgrad/autodiff/functions.hpp>

#include <algorithm>

#include <stepgrad/autodiff/kernels.hpp>

namespace stepgrad::fn {

void sigmoid(const Tensor& z, Tensor& out) {
  out.resize(z.shape());
  kernels::sigmoid(z.size(), z.data(), out.data());
}

void softmax(const Tensor& z, Tensor& out) {
  out.resize(z.shape());
  for_each_column(z.shape(), [&](std::size_t first, std::size_t stride, std::size_t n) {
    double max = z[first];
    for (std::size_t k = 1; k < n; ++k) max = std::max(max, z[first + k * stride]);
    double total = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = first + k * stride;
      out[i] = std::exp(z[i] - max);
      total += out[i];
    }
    for (std::size_t k = 0; k < n; ++k) out[first + k * stride] /= total;
  });
}

Tensor softmax(const Tensor& z) {
  Tensor out(z.shape());
  softmax(z, out);
  return out;
}

void log_softmax(const Tensor& z, Tensor& out) {
  out.resize(z.shape());
  for_each_column(z.shape(), [&](std::size_t first, std::size_t stride, std::size_t n) {
    double max = z[first];
    for (std::size_t k = 1; k < n; ++k) max = std::max(max, z[first + k * stride]);
    double total = 0.0;
    for (std::size_t k = 0; k < n; ++k) total += std::exp(z[first + k * stride] - max);
    const double log_total = std::log(total);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = first + k * stride;
      out[i] = (z[i] - max) - log_total;
    }
  });
}

Tensor log_softmax(const Tensor& z) {
  Tensor out(z.shape());
  log_softmax(z, out);
  return out;
}

}  // namespace stepgrad::fn
