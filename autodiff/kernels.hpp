// The few loops everything else is made of: matrix products, outer products, the SGD update and
// the sigmoid, on raw row-major arrays. The tape's ops and the hand-derived equations share them,
// so a faster kernel speeds up both engines alike. Internal to autodiff/: other layers use Tensor's
// functions.
//
// Two implementations of this one interface (Note [Reference and fast kernels]):
//   kernels_reference.cpp  plain loops, the one to read first;
//   kernels_fast.cpp       the same results, skipping zeros, in SIMD registers, OpenBLAS for
//                          minibatch products.
#pragma once

#include <cstddef>

namespace stepgrad::kernels {

// Note [Reference and fast kernels]
// As llm.c keeps its plain C beside the fast versions, stepgrad keeps two implementations of
// the functions below, in namespaces `reference` and `fast`, and meson's option fast_kernels
// (default true) picks the one that `kernels::gemm` and the others name. The reference kernels
// are always built, so tests/autodiff/test_kernels.cpp holds the fast ones to them: bit for bit
// for every product with one column (every product of per-sample training and of the
// tutorials), every outer product, every update and every sigmoid; to 1e-12 relative for the
// minibatch products that go to OpenBLAS, whose order of summation is its own (and its CPU's).
// The fast kernels are held to them twice: as this build compiles them, and as the explorer's
// WebAssembly build does (the portable Block of kernels_fast.cpp, without OpenBLAS), compiled
// natively a second time into namespace `portable` (tests/meson.build).

// Note [beta == 0 overwrites]
// As in BLAS, C = op(A)·op(B) + beta·C reads C only when beta != 0: with beta == 0 the
// output is written, never read, so it may hold garbage (or NaN) beforehand. The tape relies
// on this to skip zeroing gradient buffers (see Note [Gradient accumulation] in tape.hpp).

// Note [Summation order]
// Without -ffast-math the compiler may not reorder a sum, so a plain dot-product loop runs one
// addition at a time, each waiting for the last. Every sum of products here uses 32 partial
// sums instead: term p goes to partial sum p % 32, the partial sums are added in one fixed
// order at the end (combine_lanes). The fast kernels map the 32 partial sums onto SIMD
// registers that add in parallel; the reference kernels write the same order as a plain loop.
// Either way the result is the same on every machine, with or without -march=native, whether A
// or A^T is stored, and whether zero terms are skipped.
inline constexpr std::size_t kLanes = 32;

/// combine_lanes' first level: element l of the four groups of 8 lanes (lanes l, 8 + l, 16 + l,
/// 24 + l), as (0 + 2) + (1 + 3). T is double, or a SIMD register holding several l at once.
template <class T>
T combine_groups(const T& g0, const T& g1, const T& g2, const T& g3) {
  return (g0 + g2) + (g1 + g3);
}

/// combine_lanes' second level: its 8 first-level sums, pairwise.
template <class T>
T combine_eight(const T* v) {
  return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

/// The 32 partial sums of Note [Summation order], added in its fixed order: element l of the
/// four groups of 8 first ((0 + 16) + (8 + 24)), then the 8 results pairwise.
inline double combine_lanes(const double* lane) {
  double v[8];
  for (std::size_t l = 0; l < 8; ++l) {
    v[l] = combine_groups(lane[l], lane[8 + l], lane[16 + l], lane[24 + l]);
  }
  return combine_eight(v);
}

/// c = beta · c + s, never reading c when beta == 0 (Note [beta == 0 overwrites]).
inline void store_scaled(double& c, double beta, double s) {
  c = (beta == 0.0 ? 0.0 : beta * c) + s;
}

// The interface. The plain loops (kernels_reference.cpp):
namespace reference {

/// sum of a[p] * b[p] for p < n, in the order of Note [Summation order].
double dot(const double* a, const double* b, std::size_t n);

/// C (m,n) = op(A) · op(B) + beta · C, row-major. op(A) is (m,k): A is (m,k), or (k,m) when
/// trans_a. op(B) is (k,n): B is (k,n), or (n,k) when trans_b. Each element is a sum in the
/// order of Note [Summation order].
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double beta, double* c);

/// C (m,n) = alpha · u v^T + beta · C.
void outer(std::size_t m, std::size_t n, double alpha, const double* u, const double* v,
           double beta, double* c);

/// W (m,n) -= lr · (u ⊗ v), element by element: an SGD step whose gradient is the outer product
/// u ⊗ v (one sample's dW = delta ⊗ O, eq. 11), without storing it.
void sub_outer(std::size_t m, std::size_t n, double lr, const double* u, const double* v,
               double* w);

/// y[i] = fn::sigmoid(x[i]) for i < n, eq. (5) (x and y may be the same array).
void sigmoid(std::size_t n, const double* x, double* y);

}  // namespace reference

#if STEPGRAD_FAST_KERNELS
// The same four functions, fast (kernels_fast.cpp), with the results of Note [Reference and fast
// kernels].
namespace fast {
double dot(const double* a, const double* b, std::size_t n);
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double beta, double* c);
void outer(std::size_t m, std::size_t n, double alpha, const double* u, const double* v,
           double beta, double* c);
void sub_outer(std::size_t m, std::size_t n, double lr, const double* u, const double* v,
               double* w);
void sigmoid(std::size_t n, const double* x, double* y);
/// Whether sigmoid runs several elements at a time here: four when built with AVX2 and FMA
/// against glibc (Note [A vectorised exp with glibc's bits]), two otherwise (Note [A two-lane exp
/// with musl's bits]), each when its exp was found equal to std::exp.
bool sigmoid_vectorised();
}  // namespace fast
using fast::dot;
using fast::gemm;
using fast::outer;
using fast::sigmoid;
using fast::sub_outer;
#else
using reference::dot;
using reference::gemm;
using reference::outer;
using reference::sigmoid;
using reference::sub_outer;
#endif

}  // namespace stepgrad::kernels
