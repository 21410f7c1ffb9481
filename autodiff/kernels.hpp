// The few dense loops everything else is made of: matrix products and outer products on raw
// row-major arrays. The tape's ops and the hand-derived equations share them, so a faster
// kernel speeds up both engines alike.
#pragma once

#include <cstddef>

namespace stepgrad::kernels {

// Note [beta == 0 overwrites]
// As in BLAS, C = op(A)·op(B) + beta·C reads C only when beta != 0: with beta == 0 the
// output is written, never read, so it may hold garbage (or NaN) beforehand. The tape relies
// on this to skip zeroing gradient buffers (see Note [Gradient accumulation] in tape.hpp).

// Note [Summation order]
// Without -ffast-math the compiler may not reorder a sum, so a plain dot-product loop runs one
// addition at a time. dot() keeps 8 partial sums instead (element p goes to sum p % 8) and adds
// them in a fixed order at the end: the compiler maps the 8 lanes onto SIMD registers, and the
// result is the same on every machine and with or without -march=native.

/// sum of a[p] * b[p] for p < n, in the order of Note [Summation order].
double dot(const double* a, const double* b, std::size_t n);

/// C (m,n) = op(A) · op(B) + beta · C, row-major. op(A) is (m,k): A is (m,k), or (k,m) when
/// trans_a. op(B) is (k,n): B is (k,n), or (n,k) when trans_b. n == 1 is a matrix-vector product.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double beta, double* c);

/// C (m,n) = alpha · u v^T + beta · C.
void outer(std::size_t m, std::size_t n, double alpha, const double* u, const double* v,
           double beta, double* c);

}  // namespace stepgrad::kernels
