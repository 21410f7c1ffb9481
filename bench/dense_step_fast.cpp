// The dense fused step, fast (Note [The fastest dense step] in dense_step.hpp): DenseFusedStep's
// numbers, bit for bit, with W0's pass in SIMD registers.
#include <experimental/simd>

#include <stepgrad/autodiff/functions.hpp>

#include "dense_step.hpp"

namespace stepgrad::bench {

namespace {

namespace stdx = std::experimental;
using Vec = stdx::native_simd<double>;  // 8 doubles with AVX-512, 4 with AVX2
constexpr std::size_t kVec = Vec::size();
constexpr std::size_t kLanes = 32;                 // Note [Summation order] in autodiff/kernels.hpp
constexpr std::size_t kGroupRegs = kLanes / kVec;  // registers holding the 32 partial sums
static_assert(kLanes % kVec == 0 && 8 % kVec == 0);
// Rows at a time: as many as keep every partial sum in a register (32 AVX-512 registers hold two
// rows' 8 sums and the loaded blocks; 16 AVX2 registers hold one row's 8).
constexpr std::size_t kRows = kVec >= 8 ? 2 : 1;

Vec load(const double* p) { return Vec(p, stdx::element_aligned); }
void store(const Vec& v, double* p) { v.copy_to(p, stdx::element_aligned); }

// Rows i0 .. i0 + kRows of W0 (M, K): w[i] -= lr · (d[i] x_old) (the last sample's eq. 12), then
// z[i] = w[i] · x (this sample's eq. 2), each column once. Term p goes to partial sum p % 32:
// register g holds partial sums g kVec .. g kVec + kVec - 1, and a chunk of 32 columns adds
// one term to each. K % 32 columns are left at the end; they go to the first partial sums, last,
// as in Note [Summation order]. K % kVec must be 0 (784 = 24 · 32 + 16).
template <std::size_t M, std::size_t K>
void w0_rows(std::size_t i0, double* __restrict w, double lr, const double* __restrict d,
             const double* __restrict x_old, const double* __restrict x, double* __restrict z) {
  static_assert(K % kVec == 0 && M % kRows == 0);
  Vec acc[kRows][kGroupRegs];
  Vec dr[kRows];
  for (std::size_t r = 0; r < kRows; ++r) {
    dr[r] = Vec(d[i0 + r]);
    for (Vec& a : acc[r]) a = Vec(0.0);
  }
  const auto column_block = [&](std::size_t p, std::size_t g) {
    const Vec xo = load(x_old + p);
    const Vec xv = load(x + p);
    for (std::size_t r = 0; r < kRows; ++r) {
      double* wr = w + (i0 + r) * K + p;
      const Vec updated = load(wr) - lr * (dr[r] * xo);
      store(updated, wr);
      acc[r][g] += updated * xv;
    }
  };
  constexpr std::size_t kFull = K / kLanes * kLanes;
  for (std::size_t p = 0; p < kFull; p += kLanes) {
    for (std::size_t g = 0; g < kGroupRegs; ++g) column_block(p + g * kVec, g);
  }
  for (std::size_t g = 0; g < (K - kFull) / kVec; ++g) column_block(kFull + g * kVec, g);
  // combine_lanes: its first level a register at a time, then the 8 results pairwise.
  constexpr std::size_t kParts = 8 / kVec;  // registers per group of 8 partial sums
  for (std::size_t r = 0; r < kRows; ++r) {
    double v[8];
    for (std::size_t h = 0; h < kParts; ++h) {
      store(combine_groups(acc[r][h], acc[r][kParts + h], acc[r][2 * kParts + h],
                           acc[r][3 * kParts + h]),
            v + h * kVec);
    }
    z[i0 + r] = combine_eight(v);
  }
}

// delta = (W^T · upstream) ⊙ O (1 - O): eqs. (9)-(10), as FusedDeltasStep's back().
void back(const Tensor& w, const Tensor& upstream, const Tensor& o, Tensor& delta) {
  matvec_transposed(w, upstream, delta);
  for (std::size_t i = 0; i < delta.size(); ++i) delta[i] = delta[i] * (o[i] * (1.0 - o[i]));
}

}  // namespace

const Tensor& FastDenseFusedStep::step(const Tensor& x, const Tensor& y, double lr) {
  constexpr std::size_t n0 = kLayerSizes[0], n1 = kLayerSizes[1], n3 = kLayerSizes[3];
  require_sample(x, y, "FastDenseFusedStep");
  for (std::size_t i = 0; i < n1; i += kRows) {  // eq. (2), W0's last update in the same pass
    w0_rows<n1, n0>(i, W0_.data(), lr_pending_, delta1_pending_.data(), O0_pending_.data(),
                    x.data(), Z1_.data());
  }
  fn::sigmoid(Z1_, O1_);
  matvec(W1_, O1_, Z2_);  // eq. (3)
  fn::sigmoid(Z2_, O2_);
  matvec(W2_, O2_, Z3_);  // eq. (4)
  fn::softmax(Z3_, O3_);

  for (std::size_t i = 0; i < n3; ++i) delta3_[i] = O3_[i] - y[i];  // eq. (8)
  back(W2_, delta3_, O2_, delta2_);                                 // eq. (9)
  back(W1_, delta2_, O1_, delta1_);                                 // eq. (10)

  sub_outer(W2_, lr, delta3_, O2_);  // eqs. (11)-(12); W0's waits for the next step
  sub_outer(W1_, lr, delta2_, O1_);
  keep_pending(x, lr);
  return O3_;
}

void FastDenseFusedStep::finish() {
  sub_outer(W0_, lr_pending_, delta1_pending_, O0_pending_);
  clear_pending();
}

}  // namespace stepgrad::bench
