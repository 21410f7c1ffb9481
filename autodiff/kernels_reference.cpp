// The kernels as plain loops: what every product, outer product and update of the engine
// computes, written to be read. kernels_fast.cpp computes the same numbers faster (Note
// [Reference and fast kernels] in kernels.hpp); `meson setup -Dfast_kernels=false` makes the
// engine use these.
#include <stepgrad/autodiff/kernels.hpp>

#include <stepgrad/autodiff/functions.hpp>

namespace stepgrad::kernels::reference {

double dot(const double* a, const double* b, std::size_t n) {
  double lane[kLanes] = {};  // Note [Summation order]: term p goes to partial sum p % 32
  for (std::size_t p = 0; p < n; ++p) lane[p % kLanes] += a[p] * b[p];
  return combine_lanes(lane);
}

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double beta, double* c) {
  // op(A)[i][p] and op(B)[p][j], whichever way A and B are stored
  const auto a_at = [&](std::size_t i, std::size_t p) {
    return trans_a ? a[p * m + i] : a[i * k + p];
  };
  const auto b_at = [&](std::size_t p, std::size_t j) {
    return trans_b ? b[j * k + p] : b[p * n + j];
  };
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double lane[kLanes] = {};  // C[i][j] = sum over p of op(A)[i][p] op(B)[p][j], as dot()
      for (std::size_t p = 0; p < k; ++p) lane[p % kLanes] += a_at(i, p) * b_at(p, j);
      store_scaled(c[i * n + j], beta, combine_lanes(lane));
    }
  }
}

void outer(std::size_t m, std::size_t n, double alpha, const double* u, const double* v,
           double beta, double* c) {
  for (std::size_t i = 0; i < m; ++i) {
    const double s = alpha * u[i];
    for (std::size_t j = 0; j < n; ++j) {
      double& cij = c[i * n + j];
      cij = beta == 0.0 ? s * v[j] : beta * cij + s * v[j];  // Note [beta == 0 overwrites]
    }
  }
}

void sub_outer(std::size_t m, std::size_t n, double lr, const double* u, const double* v,
               double* w) {
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) w[i * n + j] -= lr * (u[i] * v[j]);
  }
}

void sigmoid(std::size_t n, const double* x, double* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = fn::sigmoid(x[i]);
}

}  // namespace stepgrad::kernels::reference
