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

#if __has_include(<experimental/simd>)
#include <experimental/simd>
#define STEPGRAD_STD_SIMD 1
#endif

namespace stepgrad::kernels::fast {

namespace {

// Note [Sparse inputs]
// An MNIST image is about 80% zeros, so in Z1 = W0 · O0 and in W0's update delta1 ⊗ O0 most
// columns of W0 meet a zero. The kernels then work block by block: columns come in blocks of 8
// (one SIMD register of Note [Summation order]'s lanes) and only the blocks where the vector has
// a nonzero are visited, one register per block, each lane summing in the dense loop's order
// (matvec groups the blocks by lane register to keep the sums in registers). Skipping a zero
// term changes no bit of a lane's sum (x + 0 * w == x) and no bit of an update
// (w - lr * (d * 0) == w), so the numbers are exactly the dense ones, for about 40% of the work
// on the article's W0.
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
#else
// Without <experimental/simd> (Emscripten's libc++): eight doubles that the compiler may
// vectorise, with the same element-by-element arithmetic.
struct Block {
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
#endif

// The blocks of 8 elements of b (block q is b[8q, 8q + 8)) that hold a nonzero, when they are at
// most half of all blocks; else empty (dense is as fast). The result lives in a per-thread
// buffer, valid until the next call. -0.0 counts as zero, NaN as nonzero.
std::span<const std::uint32_t> nonzero_blocks(const double* b, std::size_t n) {
  thread_local std::vector<std::uint32_t> blocks;
  const std::size_t count = (n + kBlock - 1) / kBlock;
  blocks.clear();
  blocks.reserve(count);  // allocates once per size: a training loop stops allocating
  std::size_t q = 0;
  for (; q * kBlock + kBlock <= n; ++q) {
    if (any_nonzero(load(b + q * kBlock))) blocks.push_back(static_cast<std::uint32_t>(q));
  }
  if (q < count && std::any_of(b + q * kBlock, b + n, [](double v) { return v != 0.0; })) {
    blocks.push_back(static_cast<std::uint32_t>(q));
  }
  if (2 * blocks.size() > count) blocks.clear();
  return blocks;
}

// Calls full(begin) for each listed block that fits in n (elements [begin, begin + 8)), and
// part(begin) for a partial last block (elements [begin, n)).
template <class Full, class Part>
void visit_blocks(std::span<const std::uint32_t> blocks, std::size_t n, Full full, Part part) {
  for (std::uint32_t q : blocks) {
    const std::size_t begin = q * kBlock;
    if (begin + kBlock <= n) {
      full(begin);
    } else {
      part(begin);
    }
  }
}

// Rows i0 .. i0+R of the block-sparse product of matvec(). groups[g] lists the full blocks whose
// terms land in lane register g (block q: g = q % kGroups), in ascending order; `tail` is the
// last, partial block (or none). Each register's sum runs over its blocks in ascending order,
// exactly as dot() would, but in a local accumulator the compiler keeps in a SIMD register:
// indexing one lane array by q % kGroups would keep the lanes in memory instead, one
// store-to-load round trip per block. R rows at once give R independent additions in flight.
constexpr std::size_t kGroups = kLanes / kBlock;

template <std::size_t R>
void matvec_rows(std::size_t i0, std::size_t k, const double* a, const double* b, double beta,
                 const std::array<std::span<const std::uint32_t>, kGroups>& groups,
                 std::size_t tail, double* y) {
  double lane[R][kLanes];
  for (std::size_t g = 0; g < kGroups; ++g) {
    std::array<Block, R> acc{};
    for (std::uint32_t q : groups[g]) {
      const std::size_t begin = q * kBlock;
      const Block bq = load(b + begin);
      for (std::size_t r = 0; r < R; ++r) {
        acc[r] += load(a + (i0 + r) * k + begin) * bq;
      }
    }
    for (std::size_t r = 0; r < R; ++r) store_to(acc[r], lane[r] + g * kBlock);
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
  const std::span<const std::uint32_t> blocks = nonzero_blocks(b, k);
  if (blocks.empty()) {
    for (std::size_t i = 0; i < m; ++i) store_scaled(y[i], beta, dot(a + i * k, b, k));
    return;
  }
  // The blocks by lane register; a partial last block apart.
  thread_local std::vector<std::uint32_t> sorted;
  sorted.reserve((k + kBlock - 1) / kBlock);  // room for every block: no allocation per call
  sorted.resize(blocks.size());
  std::array<std::span<const std::uint32_t>, kGroups> groups;
  std::size_t tail = k;
  std::size_t next = 0;
  for (std::size_t g = 0; g < kGroups; ++g) {
    const std::size_t first = next;
    for (std::uint32_t q : blocks) {
      if (q % kGroups != g) continue;
      if (q * kBlock + kBlock > k) {
        tail = q * kBlock;
      } else {
        sorted[next++] = q;
      }
    }
    groups[g] = std::span<const std::uint32_t>(sorted).subspan(first, next - first);
  }
  constexpr std::size_t kRows = 4;
  std::size_t i = 0;
  for (; i + kRows <= m; i += kRows) matvec_rows<kRows>(i, k, a, b, beta, groups, tail, y);
  for (; i < m; ++i) matvec_rows<1>(i, k, a, b, beta, groups, tail, y);
}

// y (m) = A^T · b for A (k,m): term p of each sum goes to lane p % kLanes, exactly as dot()
// does on the rows of a stored A^T, so A^T · b has the same bits whether A^T is stored or not
// (the tape stores W, the hand-derived code forms W^T). Eight outputs at a time, vectorised
// across them.
void matvec_transposed(std::size_t m, std::size_t k, const double* a, const double* b, double beta,
                       double* y) {
  for (std::size_t i0 = 0; i0 < m; i0 += kBlock) {
    const std::size_t width = std::min(kBlock, m - i0);
    double acc[kLanes][kBlock];
    for (std::size_t q = 0; q < kLanes; ++q)
      for (std::size_t l = 0; l < kBlock; ++l) acc[q][l] = 0.0;
    for (std::size_t p = 0; p < k; ++p) {
      if (b[p] == 0.0) continue;  // Note [Sparse inputs]
      const double* ap = a + p * m + i0;
      const double bp = b[p];
      double* lane = acc[p % kLanes];
      if (width == kBlock) {
        for (std::size_t l = 0; l < kBlock; ++l) lane[l] += ap[l] * bp;
      } else {
        for (std::size_t l = 0; l < width; ++l) lane[l] += ap[l] * bp;
      }
    }
    // combine_lanes() for the 8 outputs at once: the same additions in the same order,
    // vectorised across the outputs instead of gathering each output's 32 lanes.
    double v[kBlock][kBlock];
    for (std::size_t j = 0; j < kBlock; ++j)
      for (std::size_t l = 0; l < kBlock; ++l)
        v[j][l] = (acc[j][l] + acc[16 + j][l]) + (acc[8 + j][l] + acc[24 + j][l]);
    double sums[kBlock];
    for (std::size_t l = 0; l < kBlock; ++l)
      sums[l] =
          ((v[0][l] + v[4][l]) + (v[2][l] + v[6][l])) + ((v[1][l] + v[5][l]) + (v[3][l] + v[7][l]));
    for (std::size_t l = 0; l < width; ++l) store_scaled(y[i0 + l], beta, sums[l]);
  }
}

#if STEPGRAD_BLAS
// Note [BLAS threads]: one OpenBLAS thread. Benchmarks compare single-threaded figures, the
// machine's second core runs other work beside us, and a fixed thread count keeps the split
// of the work, and so every rounding, the same from run to run.
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
  const std::span<const std::uint32_t> blocks = nonzero_blocks(v, n);
  for (std::size_t i = 0; i < m; ++i) {
    const double d = u[i];
    double* wi = w + i * n;
    if (blocks.empty()) {  // dense v: every column
      std::size_t j = 0;
      for (; j + kBlock <= n; j += kBlock) store_to(load(wi + j) - lr * (d * load(v + j)), wi + j);
      for (; j < n; ++j) wi[j] -= lr * (d * v[j]);
    } else {  // only the columns where v may be nonzero (Note [Sparse inputs])
      visit_blocks(
          blocks, n,
          [&](std::size_t j) { store_to(load(wi + j) - lr * (d * load(v + j)), wi + j); },
          [&](std::size_t begin) {
            for (std::size_t j = begin; j < n; ++j) wi[j] -= lr * (d * v[j]);
          });
    }
  }
}

}  // namespace stepgrad::kernels::fast
