// The fast kernels: the numbers of kernels_reference.cpp (Note [Reference and fast kernels] in
// kernels.hpp), computed with loops ordered so the innermost one runs over contiguous memory,
// skipping the zeros of sparse inputs a SIMD register at a time (Note [Sparse inputs]), and with
// OpenBLAS for the matrix-matrix products of minibatches when it is built in.
#include <stepgrad/autodiff/kernels.hpp>

#if STEPGRAD_BLAS
#include <cblas.h>
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include <version>

// std::experimental::simd where it works: libstdc++'s (g++, and clang with libstdc++). libc++'s
// header exists but does not compile (Emscripten's, LLVM 14), so the portable Block below is used
// there, and wherever STEPGRAD_PORTABLE_SIMD is defined (to test it with g++).
#if __has_include(<experimental/simd>) && defined(__GLIBCXX__) && !defined(STEPGRAD_PORTABLE_SIMD)
#include <experimental/simd>
#define STEPGRAD_STD_SIMD 1
#else
#define STEPGRAD_STD_SIMD 0
#endif

namespace stepgrad::kernels::fast {

namespace {

// Note [Sparse inputs]
// An MNIST image is about 80% zeros, so in Z1 = W0 · O0 and in W0's update delta1 ⊗ O0 most
// columns of W0 meet a zero. The kernels then work block by block: columns come in blocks of 8
// (one SIMD register of Note [Summation order]'s lanes) and only the blocks where the vector has
// a nonzero are visited, one register per block, each lane summing in the dense loop's order
// (matvec groups the blocks by lane register to keep the sums in registers). Skipping a zero
// term changes no bit of a lane's sum (x + 0 * w == x: a lane starts at +0.0 and so is never
// -0.0) and no bit of an update (w - lr * (d * 0) == w), so the numbers are exactly the dense
// ones (for finite weights and deltas), for about 40% of the work on the article's W0. Dense
// vectors (O1, O2, the deltas) take the same block loops with every block listed.
//
// Note [Registers on every CPU]
// A block is one register with AVX-512 and two with AVX2. Sums carried across a loop are kept
// in the machine's own registers (Vec: 8 doubles with AVX-512, 4 with AVX2): with a two-register
// Block g++ kept the AVX2 build's partial sums in memory, a store and a reload per block, and
// that build ran 30% slower than the AVX-512 one (issue 16; bench/README.md). The row loops
// take kRows rows at a time (8 with AVX-512, 4 with AVX2: 8 registers of sums either way), and
// W^T · delta keeps each lane's sum in a register and combines the lanes as they come. None of
// this changes an addition or its order: the same bits on every CPU.
constexpr std::size_t kBlock = 8;
static_assert(kLanes % kBlock == 0);

// One block of Note [Sparse inputs] as one SIMD register. Its operators work element by
// element, each element exactly as the scalar expression would (-ffp-contract=off: no fused
// multiply-adds), so a loop written with Block gives the bits of the plain loop.
#if STEPGRAD_STD_SIMD
namespace stdx = std::experimental;
using Block = stdx::fixed_size_simd<double, kBlock>;
inline Block load(const double* p) { return Block(p, stdx::element_aligned); }
inline void store_to(const Block& v, double* p) { v.copy_to(p, stdx::element_aligned); }
inline bool any_nonzero(const Block& v) { return stdx::any_of(v != 0.0); }
// The machine's own register (4 doubles with AVX2, 8 with AVX-512), for sums kept in registers
// across a loop: g++ keeps a Block accumulator in memory when a Block is two registers.
using Vec = stdx::native_simd<double>;
inline Vec load_vec(const double* p) { return Vec(p, stdx::element_aligned); }
inline void store_vec(const Vec& v, double* p) { v.copy_to(p, stdx::element_aligned); }
#else
// Without a working <experimental/simd> (Emscripten's libc++): eight doubles that the compiler may
// vectorise, with the same element-by-element arithmetic.
struct Block {
  Block() = default;
  explicit Block(double x) { std::fill(v, v + kBlock, x); }
  double v[kBlock] = {};
  friend Block operator+(Block a, const Block& b) {
    for (std::size_t l = 0; l < kBlock; ++l) a.v[l] += b.v[l];
    return a;
  }
  friend Block operator-(Block a, const Block& b) {
    for (std::size_t l = 0; l < kBlock; ++l) a.v[l] -= b.v[l];
    return a;
  }
  friend Block operator*(Block a, const Block& b) {
    for (std::size_t l = 0; l < kBlock; ++l) a.v[l] *= b.v[l];
    return a;
  }
  friend Block operator*(double s, Block a) {
    for (std::size_t l = 0; l < kBlock; ++l) a.v[l] = s * a.v[l];
    return a;
  }
  Block& operator+=(const Block& b) { return *this = *this + b; }
};
inline Block load(const double* p) {
  Block b;
  std::copy(p, p + kBlock, b.v);
  return b;
}
inline void store_to(const Block& b, double* p) { std::copy(b.v, b.v + kBlock, p); }
inline bool any_nonzero(const Block& b) {
  return std::any_of(b.v, b.v + kBlock, [](double x) { return x != 0.0; });
}
using Vec = Block;
inline Vec load_vec(const double* p) { return load(p); }
inline void store_vec(const Vec& v, double* p) { store_to(v, p); }
#endif
// A block is kParts registers.
constexpr std::size_t kVec = sizeof(Vec) / sizeof(double);
static_assert(sizeof(Vec) == kVec * sizeof(double) && kBlock % kVec == 0);
constexpr std::size_t kParts = kBlock / kVec;

// The blocks of 8 elements of a vector (block q is b[8q, 8q + 8)) that hold a nonzero: the full
// ones in ascending order, and whether the partial last block, if any, holds one. -0.0 counts as
// zero, NaN as nonzero. A dense vector lists every block: the block loops below are as fast as
// plain ones, so there is no separate dense path. `full` lives in a per-thread buffer, valid
// until the next call.
struct Blocks {
  std::span<const std::uint32_t> full;
  bool tail = false;  // elements [n / 8 * 8, n) hold a nonzero
};

Blocks nonzero_blocks(const double* b, std::size_t n) {
  thread_local std::vector<std::uint32_t> blocks;
  blocks.clear();
  blocks.reserve(n / kBlock + 1);  // allocates once per size: a training loop stops allocating
  std::size_t q = 0;
  for (; q * kBlock + kBlock <= n; ++q) {
    if (any_nonzero(load(b + q * kBlock))) blocks.push_back(static_cast<std::uint32_t>(q));
  }
  const bool tail = std::any_of(b + q * kBlock, b + n, [](double v) { return v != 0.0; });
  return {blocks, tail};
}

// Rows i0 .. i0+R of the block-sparse product of matvec(). groups[g] lists the full blocks whose
// terms land in lane register g (block q: g = q % kGroups), in ascending order; `tail` is the
// last, partial block (or k: none). Each register's sum runs over its blocks in ascending order,
// exactly as dot() would, but in a local accumulator the compiler keeps in a SIMD register:
// indexing one lane array by q % kGroups would keep the lanes in memory instead, one
// store-to-load round trip per block. R rows at once give R independent additions in flight and
// load each block of b once for R rows.
constexpr std::size_t kGroups = kLanes / kBlock;
// Rows at a time in the block loops: 8 registers of sums or updates in flight, 4 with AVX2,
// where a block is two registers.
constexpr std::size_t kRows = kParts == 1 ? 8 : 4;

template <std::size_t R>
void matvec_rows(std::size_t i0, std::size_t k, const double* a, const double* b, double beta,
                 const std::array<std::span<const std::uint32_t>, kGroups>& groups,
                 std::size_t tail, double* y) {
  double lane[R][kLanes];
  for (std::size_t g = 0; g < kGroups; ++g) {
    Vec acc[R][kParts];  // lanes 8g .. 8g+7 of each row, in registers
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t h = 0; h < kParts; ++h) acc[r][h] = Vec(0.0);
    for (std::uint32_t q : groups[g]) {
      const std::size_t begin = q * kBlock;
      Vec bq[kParts];
      for (std::size_t h = 0; h < kParts; ++h) bq[h] = load_vec(b + begin + h * kVec);
      for (std::size_t r = 0; r < R; ++r) {
        const double* ar = a + (i0 + r) * k + begin;
        for (std::size_t h = 0; h < kParts; ++h) acc[r][h] += load_vec(ar + h * kVec) * bq[h];
      }
    }
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t h = 0; h < kParts; ++h)
        store_vec(acc[r][h], lane[r] + g * kBlock + h * kVec);
  }
  if (tail < k) {  // the partial last block comes last in its register, as in dot()
    for (std::size_t r = 0; r < R; ++r) {
      double* group = lane[r] + (tail % kLanes);
      const double* ai = a + (i0 + r) * k;
      for (std::size_t p = tail; p < k; ++p) group[p - tail] += ai[p] * b[p];
    }
  }
  for (std::size_t r = 0; r < R; ++r) store_scaled(y[i0 + r], beta, combine_lanes(lane[r]));
}

// y (m) = A (m,k) · b with A's rows contiguous (Note [Summation order], [Sparse inputs]).
void matvec(std::size_t m, std::size_t k, const double* a, const double* b, double beta,
            double* y) {
  const Blocks blocks = nonzero_blocks(b, k);
  // The full blocks by lane register.
  thread_local std::vector<std::uint32_t> sorted;
  sorted.reserve(k / kBlock + 1);  // room for every block: no allocation per call
  sorted.resize(blocks.full.size());
  std::array<std::span<const std::uint32_t>, kGroups> groups;
  std::size_t next = 0;
  for (std::size_t g = 0; g < kGroups; ++g) {
    const std::size_t first = next;
    for (std::uint32_t q : blocks.full) {
      if (q % kGroups == g) sorted[next++] = q;
    }
    groups[g] = std::span<const std::uint32_t>(sorted).subspan(first, next - first);
  }
  const std::size_t tail = blocks.tail ? k / kBlock * kBlock : k;
  std::size_t i = 0;
  for (; i + kRows <= m; i += kRows) matvec_rows<kRows>(i, k, a, b, beta, groups, tail, y);
  for (; i < m; ++i) matvec_rows<1>(i, k, a, b, beta, groups, tail, y);
}

// Rows i0 .. i0+R of sub_outer(): W[i] -= lr · (u[i] v) in the columns `blocks` lists, one
// register per block and row, each block of v loaded once for R rows.
template <std::size_t R>
void sub_outer_rows(std::size_t i0, std::size_t n, double lr, const double* u, const double* v,
                    const Blocks& blocks, double* w) {
  std::array<double, R> d;
  for (std::size_t r = 0; r < R; ++r) d[r] = u[i0 + r];
  for (std::uint32_t q : blocks.full) {
    const std::size_t j = q * kBlock;
    const Block vq = load(v + j);
    for (std::size_t r = 0; r < R; ++r) {
      double* wr = w + (i0 + r) * n + j;
      store_to(load(wr) - lr * (d[r] * vq), wr);
    }
  }
  if (blocks.tail) {
    for (std::size_t r = 0; r < R; ++r) {
      double* wr = w + (i0 + r) * n;
      for (std::size_t j = n / kBlock * kBlock; j < n; ++j) wr[j] -= lr * (d[r] * v[j]);
    }
  }
}

// y (m) = A^T · b for A (k,m): term p of each sum goes to lane p % kLanes, exactly as dot()
// does on the rows of a stored A^T, so A^T · b has the same bits whether A^T is stored or not
// (the tape stores W, the hand-derived code forms W^T). kVec outputs at a time, one register
// wide: each lane's sum (the terms p = l, l + 32, ...) runs in a register, and the lanes are
// combined as they come, in combine_lanes' order, vectorised across the outputs.
void matvec_transposed(std::size_t m, std::size_t k, const double* a, const double* b, double beta,
                       double* y) {
  std::size_t i0 = 0;
  for (; i0 + kVec <= m; i0 += kVec) {
    // The sum of the terms p = lane, lane + 32, ... for the outputs i0 .. i0 + kVec.
    const auto lane_sum = [&](std::size_t lane) {
      Vec s(0.0);
      for (std::size_t p = lane; p < k; p += kLanes) {
        if (b[p] == 0.0) continue;  // Note [Sparse inputs]
        s += load_vec(a + p * m + i0) * Vec(b[p]);
      }
      return s;
    };
    Vec v[8];  // combine_lanes: v[l] = (lane[l] + lane[16 + l]) + (lane[8 + l] + lane[24 + l])
    for (std::size_t l = 0; l < 8; ++l) {
      v[l] = (lane_sum(l) + lane_sum(16 + l)) + (lane_sum(8 + l) + lane_sum(24 + l));
    }
    const Vec sum = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
    double out[kVec];
    store_vec(sum, out);
    for (std::size_t l = 0; l < kVec; ++l) store_scaled(y[i0 + l], beta, out[l]);
  }
  for (; i0 < m; ++i0) {  // the last m % kVec outputs, one at a time, in the same order
    double lane[kLanes] = {};
    for (std::size_t p = 0; p < k; ++p) {
      if (b[p] != 0.0) lane[p % kLanes] += a[p * m + i0] * b[p];
    }
    store_scaled(y[i0], beta, combine_lanes(lane));
  }
}

#if STEPGRAD_BLAS
// Note [BLAS threads]: one OpenBLAS thread. Benchmarks compare single-threaded figures, the
// machine's second core runs other work beside us, and a fixed thread count keeps the split
// of the work, and so every rounding, the same from run to run. Code that wants more cores runs
// whole products side by side, each on one OpenBLAS thread (evaluate()'s threads, nn/train.cpp).
void use_one_blas_thread() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

// Products this big go to OpenBLAS: its blocked, vectorised dgemm is many times faster than a
// loop once the operands leave L1. Matrix-vector products (n == 1) stay here.
bool worth_blas(std::size_t m, std::size_t n, std::size_t k) { return n > 1 && m * n * k >= 32768; }
#endif

}  // namespace

double dot(const double* a, const double* b, std::size_t n) {
  double lane[kLanes] = {};
  std::size_t p = 0;
  for (; p + kLanes <= n; p += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) lane[l] += a[p + l] * b[p + l];
  }
  for (std::size_t l = 0; p < n; ++p, ++l) lane[l] += a[p] * b[p];
  return combine_lanes(lane);
}

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double beta, double* c) {
  if (n == 1) {
    if (trans_a) {
      matvec_transposed(m, k, a, b, beta, c);
    } else {
      matvec(m, k, a, b, beta, c);
    }
    return;
  }
#if STEPGRAD_BLAS
  if (worth_blas(m, n, k)) {
    use_one_blas_thread();
    // BLAS, too, leaves C unread when beta == 0 (Note [beta == 0 overwrites]).
    const auto mi = static_cast<blasint>(m);
    const auto ni = static_cast<blasint>(n);
    const auto ki = static_cast<blasint>(k);
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, mi, ni, ki, 1.0, a, trans_a ? mi : ki, b,
                trans_b ? ki : ni, beta, c, ni);
    return;
  }
#endif
  if (!trans_a && trans_b) {  // every C[i][j] is a dot product of two contiguous rows
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j)
        store_scaled(c[i * n + j], beta, dot(a + i * k, b + j * k, k));
    return;
  }
  // Row i of C at a time, each element summed in Note [Summation order]: the 32 partial sums of
  // C[i][j] are lanes[l * n + j], so that the innermost loop runs over j, contiguous in B.
  thread_local std::vector<double> lanes;
  lanes.resize(kLanes * n);
  for (std::size_t i = 0; i < m; ++i) {
    std::fill(lanes.begin(), lanes.end(), 0.0);
    for (std::size_t p = 0; p < k; ++p) {
      const double aip = trans_a ? a[p * m + i] : a[i * k + p];
      double* lane = lanes.data() + (p % kLanes) * n;
      if (trans_b) {
        for (std::size_t j = 0; j < n; ++j) lane[j] += aip * b[j * k + p];
      } else {
        const double* bp = b + p * n;
        for (std::size_t j = 0; j < n; ++j) lane[j] += aip * bp[j];
      }
    }
    for (std::size_t j = 0; j < n; ++j) {
      double lane[kLanes];
      for (std::size_t l = 0; l < kLanes; ++l) lane[l] = lanes[l * n + j];
      store_scaled(c[i * n + j], beta, combine_lanes(lane));
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

void sub_outer(std::size_t m, std::size_t n, double lr, const double* u, const double* v,
               double* w) {
  const Blocks blocks = nonzero_blocks(v, n);  // Note [Sparse inputs]
  std::size_t i = 0;
  for (; i + kRows <= m; i += kRows) sub_outer_rows<kRows>(i, n, lr, u, v, blocks, w);
  for (; i < m; ++i) sub_outer_rows<1>(i, n, lr, u, v, blocks, w);
}

}  // namespace stepgrad::kernels::fast
