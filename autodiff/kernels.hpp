// The few loops everything else is made of: matrix products, outer products and the SGD
// updates, on raw row-major arrays. The tape's ops and the hand-derived equations share them, so a
// faster kernel speeds up both engines alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace stepgrad::kernels {

// Note [beta == 0 overwrites]
// As in BLAS, C = op(A)·op(B) + beta·C reads C only when beta != 0: with beta == 0 the
// output is written, never read, so it may hold garbage (or NaN) beforehand. The tape relies
// on this to skip zeroing gradient buffers (see Note [Gradient accumulation] in tape.hpp).

// Note [Summation order]
// Without -ffast-math the compiler may not reorder a sum, so a plain dot-product loop runs one
// addition at a time, each waiting for the last. Every matrix-vector product here keeps 32
// partial sums instead (term p of the sum goes to partial sum p % 32) and adds them in one
// fixed order at the end: the compiler maps the lanes onto 4 SIMD registers that add in
// parallel, and the result is the same on every machine, with or without -march=native,
// whether A or A^T is stored, and whether zero terms are skipped.

// Note [Sparse inputs]
// An MNIST image is about 80% zeros, so in Z1 = W0 · O0 and in W0's update delta1 ⊗ O0 most
// columns of W0 meet a zero. The kernels then work block by block: columns come in blocks of
// 8 (one SIMD register of Note [Summation order]'s lanes) and only the blocks where the vector
// has a nonzero are visited, one register per block, each lane summing in the dense loop's
// order (matvec groups the blocks by lane register to keep the sums in registers). Skipping a
// zero term changes no bit of a lane's sum (x + 0 * w == x) and no bit of an update
// (w - lr * (d * 0) == w), so the numbers are exactly the dense ones, for about 40% of the work
// on the article's W0.
inline constexpr std::size_t kBlock = 8;

/// The blocks of 8 elements of b (block q is b[8q, 8q + 8)) that hold a nonzero, when they
/// are at most half of all blocks; else empty (dense is as fast). The result lives in a
/// per-thread buffer, valid until the next call, and gemm with n == 1 and the tape's
/// Gradient::start_outer (a matmul's backward) call it too. -0.0 counts as zero, NaN as nonzero.
std::span<const std::uint32_t> nonzero_blocks(const double* b, std::size_t n);

/// sum of a[p] * b[p] for p < n, in the order of Note [Summation order].
double dot(const double* a, const double* b, std::size_t n);

/// C (m,n) = op(A) · op(B) + beta · C, row-major. op(A) is (m,k): A is (m,k), or (k,m) when
/// trans_a. op(B) is (k,n): B is (k,n), or (n,k) when trans_b. n == 1 is a matrix-vector
/// product (Note [Summation order], Note [Sparse inputs]); big products go to OpenBLAS.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double beta, double* c);

/// C (m,n) = alpha · u v^T + beta · C.
void outer(std::size_t m, std::size_t n, double alpha, const double* u, const double* v,
           double beta, double* c);

/// C[i][j] = alpha · u[i] v[j] for the columns j of the listed blocks only; others untouched.
void outer_blocks(std::size_t m, std::size_t n, double alpha, const double* u, const double* v,
                  std::span<const std::uint32_t> blocks, double* c);

/// W[i][j] -= lr · G[i][j] for the columns j of the listed blocks only (W, G (m,n)).
void sub_scaled_blocks(std::size_t m, std::size_t n, double lr, const double* g,
                       std::span<const std::uint32_t> blocks, double* w);

/// W (m,n) -= lr · (u ⊗ v), element by element: an SGD step with the outer product u ⊗ v as
/// the gradient, without storing it.
void sub_outer(std::size_t m, std::size_t n, double lr, const double* u, const double* v,
               double* w);

/// W[i][j] -= lr · (u[i] · v[j]) for the columns j of the listed blocks only: an SGD step
/// with the outer product u ⊗ v as the gradient, without storing it.
void sub_outer_blocks(std::size_t m, std::size_t n, double lr, const double* u, const double* v,
                      std::span<const std::uint32_t> blocks, double* w);

}  // namespace stepgrad::kernels
