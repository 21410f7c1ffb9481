// Plain loops, ordered so the innermost one runs over contiguous memory; OpenBLAS for the
// matrix-matrix products of minibatches.
#include "kernels.hpp"

#include <cblas.h>

#include <mutex>

namespace stepgrad::kernels {

namespace {
// C = beta · C, honouring Note [beta == 0 overwrites].
void scale_output(std::size_t size, double beta, double* c) {
  if (beta == 0.0) {
    for (std::size_t i = 0; i < size; ++i) c[i] = 0.0;
  } else if (beta != 1.0) {
    for (std::size_t i = 0; i < size; ++i) c[i] *= beta;
  }
}
}  // namespace

double dot(const double* a, const double* b, std::size_t n) {
  constexpr std::size_t kLanes = 8;
  double lane[kLanes] = {};
  std::size_t p = 0;
  for (; p + kLanes <= n; p += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) lane[l] += a[p + l] * b[p + l];
  }
  for (std::size_t l = 0; p < n; ++p, ++l) lane[l] += a[p] * b[p];
  return ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
}

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double beta, double* c) {
  if (!trans_a && (trans_b || n == 1)) {
    // Each C[i][j] is a dot product of two contiguous rows (B^T's rows are B's rows; for
    // n == 1 the vector b is its only row).
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        const double s = dot(a + i * k, b + j * k, k);
        double& cij = c[i * n + j];
        cij = (beta == 0.0 ? 0.0 : beta * cij) + s;
      }
    }
    return;
  }
  scale_output(m * n, beta, c);
  if (trans_a) {
    // C += sum over p of (row p of A)^T (row p of op(B)): every inner loop is contiguous in C.
    for (std::size_t p = 0; p < k; ++p) {
      const double* ap = a + p * m;
      for (std::size_t i = 0; i < m; ++i) {
        double* ci = c + i * n;
        if (n == 1) {
          ci[0] += ap[i] * b[p];
        } else if (trans_b) {
          for (std::size_t j = 0; j < n; ++j) ci[j] += ap[i] * b[j * k + p];
        } else {
          const double* bp = b + p * n;
          for (std::size_t j = 0; j < n; ++j) ci[j] += ap[i] * bp[j];
        }
      }
    }
    return;
  }
  for (std::size_t i = 0; i < m; ++i) {
    double* ci = c + i * n;
    for (std::size_t p = 0; p < k; ++p) {
      const double aip = a[i * k + p];
      const double* bp = b + p * n;
      for (std::size_t j = 0; j < n; ++j) ci[j] += aip * bp[j];
    }
  }
}

void outer(std::size_t m, std::size_t n, double alpha, const double* u, const double* v,
           double beta, double* c) {
  for (std::size_t i = 0; i < m; ++i) {
    const double s = alpha * u[i];
    double* ci = c + i * n;
    if (beta == 0.0) {
      for (std::size_t j = 0; j < n; ++j) ci[j] = s * v[j];
    } else {
      for (std::size_t j = 0; j < n; ++j) ci[j] = beta * ci[j] + s * v[j];
    }
  }
}

}  // namespace stepgrad::kernels
