// The fast kernels: the numbers of kernels_reference.cpp (Note [Reference and fast kernels] in
// kernels.hpp), computed with loops ordered so the innermost one runs over contiguous memory,
// skipping the zeros of sparse inputs a SIMD register at a time (Note [Sparse inputs]), and with
// OpenBLAS for the matrix-matrix products of minibatches when it is built in.
#include <stepgrad/autodiff/kernels.hpp>

#include <stepgrad/autodiff/functions.hpp>

#if STEPGRAD_BLAS
#include <cblas.h>
#endif

// The vectorised sigmoid: four lanes with AVX2 and FMA against glibc, whose exp's FMA build it
// reproduces (Note [A vectorised exp with glibc's bits]); two lanes elsewhere, the portable
// build (WebAssembly's, and the test's copy of it) included, with the exp of musl and of glibc's
// plain build (Note [A two-lane exp with musl's bits]).
#if defined(__AVX2__) && defined(__FMA__) && defined(__GLIBC__) && !defined(STEPGRAD_PORTABLE_SIMD)
#include <immintrin.h>
#define STEPGRAD_SIMD_EXP 1
#else
#define STEPGRAD_SIMD_EXP 0
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
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

// The namespace these kernels are defined in: `fast`, and `portable` for the second copy that
// tests/meson.build compiles with STEPGRAD_PORTABLE_SIMD (test_kernels holds the page's kernels
// to the reference kernels natively too).
#ifndef STEPGRAD_KERNELS_NAMESPACE
#define STEPGRAD_KERNELS_NAMESPACE fast
#endif

// The kernels' scratch buffers, one set per thread: thread_local, but plain static where
// there is one thread (WebAssembly without pthreads, which links thread_local only with the
// atomics feature once bulk memory is on: meson.build).
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define STEPGRAD_SCRATCH static
#else
#define STEPGRAD_SCRATCH thread_local
#endif

namespace stepgrad::kernels::STEPGRAD_KERNELS_NAMESPACE {

namespace {

// Note [Sparse inputs]
// An MNIST image is about 80% zeros, so in Z1 = W0 · O0 and in W0's update delta1 ⊗ O0 most
// columns of W0 meet a zero. The kernels then work block by block: columns come in blocks of 8
// (one SIMD register of Note [Summation order]'s lanes) and only the blocks where the vector has
// a nonzero are visited, one register per block, each lane summing in the dense loop's order
// (matvec groups the blocks by lane register to keep the sums in registers). Skipping a zero
// term changes no bit of a lane's sum (x + 0 * w == x: a lane starts at +0.0 and so is never
// -0.0) and no bit of an update (w - lr * (d * 0) == w), so the numbers are exactly the dense
// ones (for finite weights and deltas, and but for a weight of exactly -0.0, which the dense
// update may turn into +0.0), for about 40% of the work on the article's W0. Dense
// vectors (O1, O2, the deltas) take the same block loops with every block listed.
//
// Note [Registers on every CPU]
// A block is one register with AVX-512 and two with AVX2. Sums carried across a loop are kept
// in the machine's own registers (Vec: 8 doubles with AVX-512, 4 with AVX2): with a two-register
// Block g++ kept the AVX2 build's partial sums in memory, a store and a reload per block, and
// that build ran 30% slower than the AVX-512 one (issue 16; bench/README.md). The products
// take kRows rows at a time (8 with AVX-512, 4 with AVX2: 8 registers of sums either way; 2
// portable Blocks in WebAssembly, eight of its 128-bit registers), the updates, which carry no
// sums, 8 rows on both (4 made AVX2's W0 update 9% slower), and W^T · delta keeps each lane's
// sum in a register and combines the lanes as they come. None of this changes an addition or
// its order: the same bits on every CPU.
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
  // Uninitialised, as a simd register is: every use writes it before reading it. (Zeroed, each
  // array of Blocks the kernels declare cost a memset: 5-6% of the page's training steps.)
  Block() = default;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  explicit Block(double x) { std::fill(v, v + kBlock, x); }
  double v[kBlock];
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
  STEPGRAD_SCRATCH std::vector<std::uint32_t> blocks;
  // Sized once per size: a training loop stops allocating.
  if (blocks.size() < n / kBlock + 1) blocks.resize(n / kBlock + 1);
  // Without a branch: every block is written at the end of the list, and kept when it holds a
  // nonzero (an image's lit blocks follow no pattern a branch predictor could learn).
  std::uint32_t* out = blocks.data();
  std::size_t count = 0;
  std::size_t q = 0;
  for (; q * kBlock + kBlock <= n; ++q) {
    out[count] = static_cast<std::uint32_t>(q);
    count += any_nonzero(load(b + q * kBlock)) ? std::size_t{1} : std::size_t{0};
  }
  const bool tail = std::any_of(b + q * kBlock, b + n, [](double v) { return v != 0.0; });
  return {std::span<const std::uint32_t>(out, count), tail};
}

// Rows i0 .. i0+R of the block-sparse product of matvec(). groups[g] lists the full blocks whose
// terms land in lane register g (block q: g = q % kGroups), in ascending order; `tail` is the
// last, partial block (or k: none). Each register's sum runs over its blocks in ascending order,
// exactly as dot() would, but in a local accumulator the compiler keeps in a SIMD register:
// indexing one lane array by q % kGroups would keep the lanes in memory instead, one
// store-to-load round trip per block. R rows at once give R independent additions in flight and
// load each block of b once for R rows.
constexpr std::size_t kGroups = kLanes / kBlock;
// Rows at a time in the products' block loops: 8 registers of sums in flight, 4 with AVX2,
// where a block is two registers; 2 rows of portable Blocks (WebAssembly), eight 128-bit
// registers of sums: with 8 rows (32 registers) V8 kept the sums in memory, and the page
// trained 1.3% slower (Node, both builds in one process, alternating, 2026-12-07).
constexpr std::size_t kRows = STEPGRAD_STD_SIMD ? (kParts == 1 ? 8 : 4) : 2;
// Rows at a time in sub_outer (Note [Registers on every CPU]).
constexpr std::size_t kUpdateRows = 8;
// Registers of outputs at a time in matvec_transposed: 4 machine registers, each term's broadcast
// shared by them; 2 portable Blocks (WebAssembly: eight 128-bit registers of sums, of x86-64's
// 16). With 4 Blocks V8 spilled them, and the page trained 8-10% slower; with 1, each term's
// index and broadcast served 8 outputs instead of 16, and the page trained 2% slower (Node,
// both builds in one process, alternating, 2026-12-07).
constexpr std::size_t kTransposedRegs = STEPGRAD_STD_SIMD ? 4 : 2;

template <std::size_t R>
void matvec_rows(std::size_t i0, std::size_t k, const double* a, const double* b, double beta,
                 const std::array<std::span<const std::uint32_t>, kGroups>& groups,
                 std::size_t tail, double* y) {
  Vec part[R][kGroups][kParts];  // lane register g of each row: lanes 8g .. 8g+7
  for (std::size_t g = 0; g < kGroups; ++g) {
    Vec acc[R][kParts];  // in registers while the blocks of register g go by
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
      for (std::size_t h = 0; h < kParts; ++h) part[r][g][h] = acc[r][h];
  }
  if (tail < k) {  // the partial last block comes last in its register, as in dot()
    const std::size_t g = tail % kLanes / kBlock;
    for (std::size_t r = 0; r < R; ++r) {
      double lanes[kBlock];
      for (std::size_t h = 0; h < kParts; ++h) store_vec(part[r][g][h], lanes + h * kVec);
      const double* ai = a + (i0 + r) * k;
      for (std::size_t p = tail; p < k; ++p) lanes[p - tail] += ai[p] * b[p];
      for (std::size_t h = 0; h < kParts; ++h) part[r][g][h] = load_vec(lanes + h * kVec);
    }
  }
  // combine_lanes, its first level a register at a time (lane register g holds group g).
  for (std::size_t r = 0; r < R; ++r) {
    double v[kBlock];
    for (std::size_t h = 0; h < kParts; ++h) {
      const Vec(&g)[kGroups][kParts] = part[r];
      store_vec(combine_groups(g[0][h], g[1][h], g[2][h], g[3][h]), v + h * kVec);
    }
    store_scaled(y[i0 + r], beta, combine_eight(v));
  }
}

// y (m) = A (m,k) · b with A's rows contiguous (Note [Summation order], [Sparse inputs]).
void matvec(std::size_t m, std::size_t k, const double* a, const double* b, double beta,
            double* y) {
  const Blocks blocks = nonzero_blocks(b, k);
  // The full blocks by lane register.
  STEPGRAD_SCRATCH std::vector<std::uint32_t> sorted;
  if (sorted.size() < k / kBlock + 1) sorted.resize(k / kBlock + 1);  // once per size
  std::array<std::span<const std::uint32_t>, kGroups> groups;
  std::size_t next = 0;
  for (std::size_t g = 0; g < kGroups; ++g) {
    const std::size_t first = next;
    for (std::uint32_t q : blocks.full) {  // without a branch, as nonzero_blocks
      sorted[next] = q;
      next += q % kGroups == g ? std::size_t{1} : std::size_t{0};
    }
    groups[g] = std::span<const std::uint32_t>(sorted).subspan(first, next - first);
  }
  const std::size_t tail = blocks.tail ? k / kBlock * kBlock : k;
  std::size_t i = 0;
  for (; i + kRows <= m; i += kRows) matvec_rows<kRows>(i, k, a, b, beta, groups, tail, y);
  for (; i < m; ++i) matvec_rows<1>(i, k, a, b, beta, groups, tail, y);
}

// Rows rows[0] .. rows[R-1] of sub_outer(): W[i] -= lr · (u[i] v) in the columns `blocks` lists,
// one register per block and row, each block of v loaded once for R rows.
template <std::size_t R>
void sub_outer_rows(const std::uint32_t* rows, std::size_t n, double lr, const double* u,
                    const double* v, const Blocks& blocks, double* w) {
  std::array<double, R> d;
  std::array<double*, R> wr;
  for (std::size_t r = 0; r < R; ++r) {
    d[r] = u[rows[r]];
    wr[r] = w + std::size_t{rows[r]} * n;
  }
  for (std::uint32_t q : blocks.full) {
    const std::size_t j = q * kBlock;
    const Block vq = load(v + j);
    for (std::size_t r = 0; r < R; ++r) store_to(load(wr[r] + j) - lr * (d[r] * vq), wr[r] + j);
  }
  if (blocks.tail) {
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t j = n / kBlock * kBlock; j < n; ++j) wr[r][j] -= lr * (d[r] * v[j]);
    }
  }
}

// y (m) = A^T · b for A (k,m): term p of each sum goes to lane p % kLanes, exactly as dot()
// does on the rows of a stored A^T, so A^T · b has the same bits whether A^T is stored or not
// (the tape stores W, the hand-derived code forms W^T; a column-major W0 is W0^T stored, Note
// [Column-major storage] in tensor.hpp). C registers of outputs at a time: each lane's sum (the
// terms p = l, l + 32, ...) runs in a register, and the lanes are combined as they come, in
// combine_lanes' order, vectorised across the outputs.
//
// kRounds > 0: k <= 32 kRounds, each lane holds at most kRounds terms, and the loops unroll (W1^T
// and W2^T of the article's network: 64 and 10 terms). C registers of outputs at a time share
// each term's broadcast of b[p]. kRounds == 0 (W0 · O0, 784 terms): `lit` lists each lane's
// terms with b[p] != 0, in ascending order, found once for all the outputs.
struct LaneTerms {
  const std::uint32_t* terms;  // lane l's terms: terms[first[l]] .. terms[first[l + 1] - 1]
  std::array<std::uint32_t, kLanes + 1> first;
};

LaneTerms lit_terms(const double* b, std::size_t k) {
  STEPGRAD_SCRATCH std::vector<std::uint32_t> terms;
  if (terms.size() < k) terms.resize(k);  // once per size
  LaneTerms lt{terms.data(), {}};
  std::size_t count = 0;
  for (std::size_t lane = 0; lane < kLanes; ++lane) {
    lt.first[lane] = static_cast<std::uint32_t>(count);
    for (std::size_t p = lane; p < k; p += kLanes) {  // without a branch, as nonzero_blocks
      terms[count] = static_cast<std::uint32_t>(p);
      count += b[p] != 0.0 ? std::size_t{1} : std::size_t{0};
    }
  }
  lt.first[kLanes] = static_cast<std::uint32_t>(count);
  return lt;
}

template <std::size_t kRounds, std::size_t C>
void matvec_transposed_cols(std::size_t i0, std::size_t m, std::size_t k, const double* a,
                            const double* b, const LaneTerms* lit, double beta, double* y) {
  // The sum of the terms p = lane, lane + 32, ... for the outputs i0 .. i0 + C kVec.
  const auto add_term = [&](std::size_t p, Vec* s) {
    const Vec bp(b[p]);
    for (std::size_t c = 0; c < C; ++c) s[c] += load_vec(a + p * m + i0 + c * kVec) * bp;
  };
  const auto lane_sum = [&](std::size_t lane, Vec* s) {
    for (std::size_t c = 0; c < C; ++c) s[c] = Vec(0.0);
    if constexpr (kRounds == 0) {
      for (std::uint32_t t = lit->first[lane]; t < lit->first[lane + 1]; ++t) {
        add_term(lit->terms[t], s);
      }
    } else {
      const std::size_t end = std::min(k, lane + kRounds * kLanes);
      for (std::size_t p = lane; p < end; p += kLanes) {
        if (b[p] != 0.0) add_term(p, s);  // Note [Sparse inputs]
      }
    }
  };
  // combine_lanes, vectorised across the outputs: v[c][l] from lanes l, 8 + l, 16 + l, 24 + l,
  // added as combine_groups adds them, (l + (16 + l)) + ((8 + l) + (24 + l)), each pair as soon
  // as it is summed: three lane sums live at a time, not four.
  Vec v[C][8];
  for (std::size_t l = 0; l < 8; ++l) {
    Vec low[C], high[C], s[C];
    lane_sum(l, low);
    lane_sum(16 + l, s);
    for (std::size_t c = 0; c < C; ++c) low[c] = low[c] + s[c];
    lane_sum(8 + l, high);
    lane_sum(24 + l, s);
    for (std::size_t c = 0; c < C; ++c) v[c][l] = low[c] + (high[c] + s[c]);
  }
  for (std::size_t c = 0; c < C; ++c) {
    double out[kVec];
    store_vec(combine_eight(v[c]), out);
    for (std::size_t l = 0; l < kVec; ++l) store_scaled(y[i0 + c * kVec + l], beta, out[l]);
  }
}

template <std::size_t kRounds>
void matvec_transposed_rounds(std::size_t m, std::size_t k, const double* a, const double* b,
                              double beta, double* y) {
  constexpr std::size_t C = kTransposedRegs;
  LaneTerms lit_storage{};
  const LaneTerms* lit = nullptr;
  if constexpr (kRounds == 0) {
    lit_storage = lit_terms(b, k);
    lit = &lit_storage;
  }
  std::size_t i0 = 0;
  for (; i0 + C * kVec <= m; i0 += C * kVec) {
    matvec_transposed_cols<kRounds, C>(i0, m, k, a, b, lit, beta, y);
  }
  for (; i0 + kVec <= m; i0 += kVec) {
    matvec_transposed_cols<kRounds, 1>(i0, m, k, a, b, lit, beta, y);
  }
  for (; i0 < m; ++i0) {  // the last m % kVec outputs, one at a time, in the same order
    double lane[kLanes] = {};
    for (std::size_t p = 0; p < k; ++p) {
      if (b[p] != 0.0) lane[p % kLanes] += a[p * m + i0] * b[p];
    }
    store_scaled(y[i0], beta, combine_lanes(lane));
  }
}

void matvec_transposed(std::size_t m, std::size_t k, const double* a, const double* b, double beta,
                       double* y) {
  if (k <= kLanes) {
    matvec_transposed_rounds<1>(m, k, a, b, beta, y);
  } else if (k <= 2 * kLanes) {
    matvec_transposed_rounds<2>(m, k, a, b, beta, y);
  } else {
    matvec_transposed_rounds<0>(m, k, a, b, beta, y);
  }
}

// Note [A vectorised exp with glibc's bits]
// The sigmoid of a layer spends most of its time in std::exp, one call per element. The golden
// outputs were made with glibc's exp, so a faster exp must give its bits, not merely its
// accuracy (libmvec's vector exp differs in the last bit now and then). glibc (2.28 and later)
// computes exp(x) for 2^-54 <= |x| < 512 in a few exact steps (sysdeps/ieee754/dbl-64/e_exp.c,
// from Arm's optimized-routines, MIT licence): x = k ln2/128 + r, exp(x) = 2^(k/128) exp(r),
// 2^(k/128) from a table of 128 pairs, exp(r) from a degree-5 polynomial. On a CPU with FMA the
// library runs the build of that code compiled with -mfma (__exp_fma), whose fused multiply-adds
// fall where exp_simd below puts them (read from its disassembly: objdump -d libm.so.6). The
// table and constants are glibc's __exp_data. Every other x (|x| < 2^-54 and so 0, |x| >= 512,
// infinities, NaN) goes to std::exp itself: a group of four with such a lane takes std::exp for
// all four. Because a different libm could compute exp another way, the first call checks
// exp_simd against std::exp on 4,096 arguments (half across its whole range, half in [-40, 0]
// where a network's sigmoids live) and uses std::exp alone if any bit differs; tests/autodiff/
// test_kernels.cpp checks the sigmoid on 1.2 million more.
namespace glibc_exp {
constexpr double kInvLn2N = 0x1.71547652b82fep0 * 128;  // 128 / ln 2
constexpr double kNegLn2HiN = -0x1.62e42fefa0000p-8;    // -ln 2 / 128, high and low parts
constexpr double kNegLn2LoN = -0x1.cf79abc9e3b3ap-47;
constexpr double kShift = 0x1.8p52;
constexpr double kC2 = 0x1.ffffffffffdbdp-2;  // the polynomial's coefficients of r^2 .. r^5
constexpr double kC3 = 0x1.555555555543cp-3;
constexpr double kC4 = 0x1.55555cf172b91p-5;
constexpr double kC5 = 0x1.1111167a4d017p-7;
// 2^(k/128) ~= H[k] (1 + T[k]): tab[2k] = bits of T[k], tab[2k + 1] = bits of H[k] - (k << 45).
alignas(64) constexpr std::uint64_t kTable[2 * 128] = {
    0x0000000000000000u, 0x3ff0000000000000u, 0x3c9b3b4f1a88bf6eu, 0x3feff63da9fb3335u,
    0xbc7160139cd8dc5du, 0x3fefec9a3e778061u, 0xbc905e7a108766d1u, 0x3fefe315e86e7f85u,
    0x3c8cd2523567f613u, 0x3fefd9b0d3158574u, 0xbc8bce8023f98efau, 0x3fefd06b29ddf6deu,
    0x3c60f74e61e6c861u, 0x3fefc74518759bc8u, 0x3c90a3e45b33d399u, 0x3fefbe3ecac6f383u,
    0x3c979aa65d837b6du, 0x3fefb5586cf9890fu, 0x3c8eb51a92fdeffcu, 0x3fefac922b7247f7u,
    0x3c3ebe3d702f9cd1u, 0x3fefa3ec32d3d1a2u, 0xbc6a033489906e0bu, 0x3fef9b66affed31bu,
    0xbc9556522a2fbd0eu, 0x3fef9301d0125b51u, 0xbc5080ef8c4eea55u, 0x3fef8abdc06c31ccu,
    0xbc91c923b9d5f416u, 0x3fef829aaea92de0u, 0x3c80d3e3e95c55afu, 0x3fef7a98c8a58e51u,
    0xbc801b15eaa59348u, 0x3fef72b83c7d517bu, 0xbc8f1ff055de323du, 0x3fef6af9388c8deau,
    0x3c8b898c3f1353bfu, 0x3fef635beb6fcb75u, 0xbc96d99c7611eb26u, 0x3fef5be084045cd4u,
    0x3c9aecf73e3a2f60u, 0x3fef54873168b9aau, 0xbc8fe782cb86389du, 0x3fef4d5022fcd91du,
    0x3c8a6f4144a6c38du, 0x3fef463b88628cd6u, 0x3c807a05b0e4047du, 0x3fef3f49917ddc96u,
    0x3c968efde3a8a894u, 0x3fef387a6e756238u, 0x3c875e18f274487du, 0x3fef31ce4fb2a63fu,
    0x3c80472b981fe7f2u, 0x3fef2b4565e27cddu, 0xbc96b87b3f71085eu, 0x3fef24dfe1f56381u,
    0x3c82f7e16d09ab31u, 0x3fef1e9df51fdee1u, 0xbc3d219b1a6fbffau, 0x3fef187fd0dad990u,
    0x3c8b3782720c0ab4u, 0x3fef1285a6e4030bu, 0x3c6e149289cecb8fu, 0x3fef0cafa93e2f56u,
    0x3c834d754db0abb6u, 0x3fef06fe0a31b715u, 0x3c864201e2ac744cu, 0x3fef0170fc4cd831u,
    0x3c8fdd395dd3f84au, 0x3feefc08b26416ffu, 0xbc86a3803b8e5b04u, 0x3feef6c55f929ff1u,
    0xbc924aedcc4b5068u, 0x3feef1a7373aa9cbu, 0xbc9907f81b512d8eu, 0x3feeecae6d05d866u,
    0xbc71d1e83e9436d2u, 0x3feee7db34e59ff7u, 0xbc991919b3ce1b15u, 0x3feee32dc313a8e5u,
    0x3c859f48a72a4c6du, 0x3feedea64c123422u, 0xbc9312607a28698au, 0x3feeda4504ac801cu,
    0xbc58a78f4817895bu, 0x3feed60a21f72e2au, 0xbc7c2c9b67499a1bu, 0x3feed1f5d950a897u,
    0x3c4363ed60c2ac11u, 0x3feece086061892du, 0x3c9666093b0664efu, 0x3feeca41ed1d0057u,
    0x3c6ecce1daa10379u, 0x3feec6a2b5c13cd0u, 0x3c93ff8e3f0f1230u, 0x3feec32af0d7d3deu,
    0x3c7690cebb7aafb0u, 0x3feebfdad5362a27u, 0x3c931dbdeb54e077u, 0x3feebcb299fddd0du,
    0xbc8f94340071a38eu, 0x3feeb9b2769d2ca7u, 0xbc87deccdc93a349u, 0x3feeb6daa2cf6642u,
    0xbc78dec6bd0f385fu, 0x3feeb42b569d4f82u, 0xbc861246ec7b5cf6u, 0x3feeb1a4ca5d920fu,
    0x3c93350518fdd78eu, 0x3feeaf4736b527dau, 0x3c7b98b72f8a9b05u, 0x3feead12d497c7fdu,
    0x3c9063e1e21c5409u, 0x3feeab07dd485429u, 0x3c34c7855019c6eau, 0x3feea9268a5946b7u,
    0x3c9432e62b64c035u, 0x3feea76f15ad2148u, 0xbc8ce44a6199769fu, 0x3feea5e1b976dc09u,
    0xbc8c33c53bef4da8u, 0x3feea47eb03a5585u, 0xbc845378892be9aeu, 0x3feea34634ccc320u,
    0xbc93cedd78565858u, 0x3feea23882552225u, 0x3c5710aa807e1964u, 0x3feea155d44ca973u,
    0xbc93b3efbf5e2228u, 0x3feea09e667f3bcdu, 0xbc6a12ad8734b982u, 0x3feea012750bdabfu,
    0xbc6367efb86da9eeu, 0x3fee9fb23c651a2fu, 0xbc80dc3d54e08851u, 0x3fee9f7df9519484u,
    0xbc781f647e5a3ecfu, 0x3fee9f75e8ec5f74u, 0xbc86ee4ac08b7db0u, 0x3fee9f9a48a58174u,
    0xbc8619321e55e68au, 0x3fee9feb564267c9u, 0x3c909ccb5e09d4d3u, 0x3feea0694fde5d3fu,
    0xbc7b32dcb94da51du, 0x3feea11473eb0187u, 0x3c94ecfd5467c06bu, 0x3feea1ed0130c132u,
    0x3c65ebe1abd66c55u, 0x3feea2f336cf4e62u, 0xbc88a1c52fb3cf42u, 0x3feea427543e1a12u,
    0xbc9369b6f13b3734u, 0x3feea589994cce13u, 0xbc805e843a19ff1eu, 0x3feea71a4623c7adu,
    0xbc94d450d872576eu, 0x3feea8d99b4492edu, 0x3c90ad675b0e8a00u, 0x3feeaac7d98a6699u,
    0x3c8db72fc1f0eab4u, 0x3feeace5422aa0dbu, 0xbc65b6609cc5e7ffu, 0x3feeaf3216b5448cu,
    0x3c7bf68359f35f44u, 0x3feeb1ae99157736u, 0xbc93091fa71e3d83u, 0x3feeb45b0b91ffc6u,
    0xbc5da9b88b6c1e29u, 0x3feeb737b0cdc5e5u, 0xbc6c23f97c90b959u, 0x3feeba44cbc8520fu,
    0xbc92434322f4f9aau, 0x3feebd829fde4e50u, 0xbc85ca6cd7668e4bu, 0x3feec0f170ca07bau,
    0x3c71affc2b91ce27u, 0x3feec49182a3f090u, 0x3c6dd235e10a73bbu, 0x3feec86319e32323u,
    0xbc87c50422622263u, 0x3feecc667b5de565u, 0x3c8b1c86e3e231d5u, 0x3feed09bec4a2d33u,
    0xbc91bbd1d3bcbb15u, 0x3feed503b23e255du, 0x3c90cc319cee31d2u, 0x3feed99e1330b358u,
    0x3c8469846e735ab3u, 0x3feede6b5579fdbfu, 0xbc82dfcd978e9db4u, 0x3feee36bbfd3f37au,
    0x3c8c1a7792cb3387u, 0x3feee89f995ad3adu, 0xbc907b8f4ad1d9fau, 0x3feeee07298db666u,
    0xbc55c3d956dcaebau, 0x3feef3a2b84f15fbu, 0xbc90a40e3da6f640u, 0x3feef9728de5593au,
    0xbc68d6f438ad9334u, 0x3feeff76f2fb5e47u, 0xbc91eee26b588a35u, 0x3fef05b030a1064au,
    0x3c74ffd70a5fddcdu, 0x3fef0c1e904bc1d2u, 0xbc91bdfbfa9298acu, 0x3fef12c25bd71e09u,
    0x3c736eae30af0cb3u, 0x3fef199bdd85529cu, 0x3c8ee3325c9ffd94u, 0x3fef20ab5fffd07au,
    0x3c84e08fd10959acu, 0x3fef27f12e57d14bu, 0x3c63cdaf384e1a67u, 0x3fef2f6d9406e7b5u,
    0x3c676b2c6c921968u, 0x3fef3720dcef9069u, 0xbc808a1883ccb5d2u, 0x3fef3f0b555dc3fau,
    0xbc8fad5d3ffffa6fu, 0x3fef472d4a07897cu, 0xbc900dae3875a949u, 0x3fef4f87080d89f2u,
    0x3c74a385a63d07a7u, 0x3fef5818dcfba487u, 0xbc82919e2040220fu, 0x3fef60e316c98398u,
    0x3c8e5a50d5c192acu, 0x3fef69e603db3285u, 0x3c843a59ac016b4bu, 0x3fef7321f301b460u,
    0xbc82d52107b43e1fu, 0x3fef7c97337b9b5fu, 0xbc892ab93b470dc9u, 0x3fef864614f5a129u,
    0x3c74b604603a88d3u, 0x3fef902ee78b3ff6u, 0x3c83c5ec519d7271u, 0x3fef9a51fbc74c83u,
    0xbc8ff7128fd391f0u, 0x3fefa4afa2a490dau, 0xbc8dae98e223747du, 0x3fefaf482d8e67f1u,
    0x3c8ec3bc41aa2008u, 0x3fefba1bee615a27u, 0x3c842b94c3a9eb32u, 0x3fefc52b376bba97u,
    0x3c8a64a931d185eeu, 0x3fefd0765b6e4540u, 0xbc8e37bae43be3edu, 0x3fefdbfdad9cbe14u,
    0x3c77893b4d91cd9du, 0x3fefe7c1819e90d8u, 0x3c5305c14160cc89u, 0x3feff3c22b8f71f1u,
};
}  // namespace glibc_exp

// Whether `exp_n` (four arguments of x to four results in y) gives std::exp's bits on 4,096
// arguments spread over the range the vectorised exps handle, both signs, half of them in
// [-40, 0] where a network's sigmoids live.
template <typename ExpN>
bool agrees_with_std_exp(ExpN exp_n) {
  std::uint64_t state = 0x9e3779b97f4a7c15u;
  for (int i = 0; i < 1024; ++i) {
    alignas(32) double x[4];
    for (double& v : x) {
      state = state * 6364136223846793005u + 1442695040888963407u;
      const double f = static_cast<double>(state >> 11) * 0x1p-53;
      if (i % 2 == 0) {  // a sigmoid's arguments: -40 f, f in [0, 1)
        v = -40.0 * f;
        if (v > -0x1p-54) v = -0.5;
      } else {  // |x| = 2^e (1 + f) with e in [-54, 8]: every binade the vectorised exps handle
        const int e = static_cast<int>((state >> 3) % 63) - 54;
        v = std::ldexp(1.0 + f, e) * ((state & 1) != 0 ? -1.0 : 1.0);
        if (std::fabs(v) >= 512.0) v = std::copysign(511.0, v);
      }
    }
    alignas(32) double y[4];
    exp_n(x, y);
    for (int l = 0; l < 4; ++l) {
      const double want = std::exp(x[l]);
      if (std::memcmp(&want, &y[l], sizeof want) != 0) return false;
    }
  }
  return true;
}

#if STEPGRAD_SIMD_EXP
// exp of four arguments, each with 2^-54 <= |x| < 512: glibc's __exp_fma, step for step.
inline __m256d exp_simd(__m256d x) {
  using namespace glibc_exp;
  const __m256d shift = _mm256_set1_pd(kShift);
  __m256d kd = _mm256_fmadd_pd(x, _mm256_set1_pd(kInvLn2N), shift);
  const __m256i ki = _mm256_castpd_si256(kd);
  kd = _mm256_sub_pd(kd, shift);
  __m256d r = _mm256_fmadd_pd(kd, _mm256_set1_pd(kNegLn2HiN), x);
  r = _mm256_fmadd_pd(kd, _mm256_set1_pd(kNegLn2LoN), r);
  const __m256i idx = _mm256_slli_epi64(_mm256_and_si256(ki, _mm256_set1_epi64x(127)), 1);
  const auto* tails = reinterpret_cast<const long long*>(kTable);       // tab[2k]
  const auto* scales = reinterpret_cast<const long long*>(kTable + 1);  // tab[2k + 1]
  const __m256d tail = _mm256_castsi256_pd(_mm256_i64gather_epi64(tails, idx, 8));
  const __m256i sbits =
      _mm256_add_epi64(_mm256_i64gather_epi64(scales, idx, 8), _mm256_slli_epi64(ki, 45));
  const __m256d c23 = _mm256_fmadd_pd(r, _mm256_set1_pd(kC3), _mm256_set1_pd(kC2));
  const __m256d tail_r = _mm256_add_pd(r, tail);
  const __m256d r2 = _mm256_mul_pd(r, r);
  const __m256d c45 = _mm256_fmadd_pd(r, _mm256_set1_pd(kC5), _mm256_set1_pd(kC4));
  const __m256d low = _mm256_fmadd_pd(c23, r2, tail_r);
  const __m256d tmp = _mm256_fmadd_pd(_mm256_mul_pd(r2, r2), c45, low);
  const __m256d scale = _mm256_castsi256_pd(sbits);
  return _mm256_fmadd_pd(scale, tmp, scale);
}

// The lanes of x where exp_simd applies: 2^-54 <= |x| < 512, as a 4-bit mask.
inline int exp_simd_lanes(__m256d x) {
  const __m256i top =
      _mm256_and_si256(_mm256_srli_epi64(_mm256_castpd_si256(x), 52), _mm256_set1_epi64x(0x7ff));
  const __m256i above = _mm256_cmpgt_epi64(top, _mm256_set1_epi64x(0x3c9 - 1));
  const __m256i below = _mm256_cmpgt_epi64(_mm256_set1_epi64x(0x3c9 + 0x3f), top);
  return _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_and_si256(above, below)));
}

// fn::sigmoid of four lanes: e = exp(x >= 0 ? -x : x), (x >= 0 ? 1 : e) / (1 + e), each step the
// scalar one; a group with a lane outside exp_simd's range takes fn::sigmoid's own exp (std::exp)
// for all four lanes.
inline __m256d sigmoid_simd(__m256d x) {
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d nonnegative = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GE_OQ);
  const __m256d arg = _mm256_blendv_pd(x, _mm256_xor_pd(x, _mm256_set1_pd(-0.0)), nonnegative);
  __m256d e;
  if (exp_simd_lanes(arg) == 0xf) {
    e = exp_simd(arg);
  } else {
    alignas(32) double a[4];
    _mm256_store_pd(a, arg);
    for (double& v : a) v = std::exp(v);
    e = _mm256_load_pd(a);
  }
  return _mm256_div_pd(_mm256_blendv_pd(e, one, nonnegative), _mm256_add_pd(one, e));
}

// Whether exp_simd gives std::exp's bits here (Note [A vectorised exp with glibc's bits]),
// checked once.
bool exp_simd_agrees() {
  static const bool agrees = agrees_with_std_exp(
      [](const double* x, double* y) { _mm256_store_pd(y, exp_simd(_mm256_load_pd(x))); });
  return agrees;
}
#else
// Note [A two-lane exp with musl's bits]
// musl's exp (src/math/exp.c, the page's libm: Emscripten's libc is musl) is the same Arm code as
// glibc's, and so is its table; without FMA (WebAssembly has none) each step is a plain multiply or
// add, which is also what glibc's build without FMA computes (on 20 million arguments of a sigmoid,
// this code and that build agreed on all; the FMA build differed on about 0.05% of them:
// 2026-12-07, not a test). exp_pair below is those steps on two lanes of 128-bit SIMD, the table
// read lane by lane, for 2^-54 <= |x| < 512 (every other x takes std::exp, as in exp_simd). The
// first call checks it against std::exp as exp_simd is checked, so the page, whose std::exp is
// musl's, runs it; natively on a CPU with FMA, where glibc's exp is its FMA build, the check fails
// and the sigmoid stays scalar (test_kernels holds the portable copy to the scalar sigmoid both
// ways: tests/meson.build runs it a second time with glibc's plain exp).
using F2 = double __attribute__((vector_size(16)));
using U2 = std::uint64_t __attribute__((vector_size(16)));

inline F2 load_pair(const double* p) {
  F2 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_pair(const F2& v, double* p) { std::memcpy(p, &v, sizeof v); }

// exp of two arguments, each with 2^-54 <= |x| < 512: musl's exp, step for step.
inline F2 exp_pair(F2 x) {
  using namespace glibc_exp;
  F2 kd = kInvLn2N * x + kShift;
  const U2 ki = __builtin_bit_cast(U2, kd);
  kd -= kShift;
  const F2 r = x + kd * kNegLn2HiN + kd * kNegLn2LoN;
  const U2 idx = (ki & 127u) << 1u;
  const F2 tail = {__builtin_bit_cast(double, kTable[idx[0]]),
                   __builtin_bit_cast(double, kTable[idx[1]])};
  const U2 sbits = U2{kTable[idx[0] + 1], kTable[idx[1] + 1]} + (ki << 45u);
  const F2 r2 = r * r;
  const F2 tmp = tail + r + r2 * (kC2 + r * kC3) + r2 * r2 * (kC4 + r * kC5);
  const F2 scale = __builtin_bit_cast(F2, sbits);
  return scale + scale * tmp;
}

// Whether both lanes of x are in exp_pair's range, 2^-54 <= |x| < 512.
inline bool exp_pair_applies(F2 x) {
  const U2 offset = ((__builtin_bit_cast(U2, x) >> 52u) & 0x7ffu) - 0x3c9u;  // wraps below
  return std::max(offset[0], offset[1]) < 0x3fu;
}

// Whether exp_pair gives std::exp's bits here, checked once.
bool exp_pair_agrees() {
  static const bool agrees = agrees_with_std_exp([](const double* x, double* y) {
    store_pair(exp_pair(load_pair(x)), y);
    store_pair(exp_pair(load_pair(x + 2)), y + 2);
  });
  return agrees;
}
#endif

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
  if (!trans_b) {
    // Column j of C is op(A) · (column j of B), by matvec (A) or matvec_transposed (A^T stored,
    // a column-major W0): their loops skip B's zeros (the black pixels of a batch of images, Note
    // [Sparse inputs]) and sum each element in the order of Note [Summation order], as every
    // loop here without OpenBLAS does: the same bits. B's columns are gathered 8 at a time, so
    // that each of its cache lines is read once. Without BLAS (the explorer) this is the
    // test-set evaluation's W0 · X: evaluating 1,000 test images took 44 ms by the row loop
    // below (which took A · B then), 24-29 ms by matvec on a row-major W0, and 16 ms by
    // matvec_transposed on a column-major one, which visits only each image's lit pixels (Node,
    // 2026-12-07; the same accuracy and cost bits).
    constexpr std::size_t kCols = 8;
    STEPGRAD_SCRATCH std::vector<double> cols, out;
    cols.resize(kCols * k);  // once per size
    out.resize(m);
    for (std::size_t j0 = 0; j0 < n; j0 += kCols) {
      const std::size_t width = std::min(kCols, n - j0);
      for (std::size_t p = 0; p < k; ++p)
        for (std::size_t jj = 0; jj < width; ++jj) cols[jj * k + p] = b[p * n + j0 + jj];
      for (std::size_t jj = 0; jj < width; ++jj) {
        if (trans_a) {
          matvec_transposed(m, k, a, cols.data() + jj * k, 0.0, out.data());
        } else {
          matvec(m, k, a, cols.data() + jj * k, 0.0, out.data());
        }
        for (std::size_t i = 0; i < m; ++i) store_scaled(c[i * n + j0 + jj], beta, out[i]);
      }
    }
    return;
  }
  // A^T · B^T: row i of C at a time, each element summed in Note [Summation order]: the 32
  // partial sums of C[i][j] are lanes[l * n + j].
  STEPGRAD_SCRATCH std::vector<double> lanes;
  lanes.resize(kLanes * n);
  for (std::size_t i = 0; i < m; ++i) {
    std::fill(lanes.begin(), lanes.end(), 0.0);
    for (std::size_t p = 0; p < k; ++p) {
      const double aip = a[p * m + i];  // A^T[i][p]
      double* lane = lanes.data() + (p % kLanes) * n;
      for (std::size_t j = 0; j < n; ++j) lane[j] += aip * b[j * k + p];
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
  // The rows where u is not zero: the others stay as they are (w - lr · (0 · v[j]) == w). When u
  // is an image (a column-major W0's update, Note [Column-major storage] in tensor.hpp), that is
  // a fifth of the rows; otherwise all of them. kUpdateRows at a time, wherever they are.
  STEPGRAD_SCRATCH std::vector<std::uint32_t> rows;
  if (rows.size() < m) rows.resize(m);  // once per size
  std::size_t count = 0;
  for (std::size_t i = 0; i < m; ++i) {  // without a branch, as nonzero_blocks
    rows[count] = static_cast<std::uint32_t>(i);
    count += u[i] != 0.0 ? std::size_t{1} : std::size_t{0};
  }
  std::size_t r = 0;
  for (; r + kUpdateRows <= count; r += kUpdateRows) {
    sub_outer_rows<kUpdateRows>(rows.data() + r, n, lr, u, v, blocks, w);
  }
  for (; r < count; ++r) sub_outer_rows<1>(rows.data() + r, n, lr, u, v, blocks, w);
}

bool sigmoid_vectorised() {
#if STEPGRAD_SIMD_EXP
  return exp_simd_agrees();
#else
  return exp_pair_agrees();
#endif
}

void sigmoid(std::size_t n, const double* x, double* y) {
  std::size_t i = 0;
#if STEPGRAD_SIMD_EXP
  if (exp_simd_agrees()) {
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, sigmoid_simd(_mm256_loadu_pd(x + i)));
  }
#else
  // fn::sigmoid of two lanes, as sigmoid_simd: e = exp(x >= 0 ? -x : x) (that is, -|x| where
  // exp_pair applies: 0 and NaN do not), (x >= 0 ? 1 : e) / (1 + e); a pair with a lane outside
  // exp_pair's range takes fn::sigmoid for both.
  if (exp_pair_agrees()) {
    const U2 sign = __builtin_bit_cast(U2, F2{-0.0, -0.0});
    const U2 one = __builtin_bit_cast(U2, F2{1.0, 1.0});
    for (; i + 2 <= n; i += 2) {
      const F2 v = load_pair(x + i);
      const F2 arg = __builtin_bit_cast(F2, __builtin_bit_cast(U2, v) | sign);
      if (!exp_pair_applies(arg)) {
        y[i] = fn::sigmoid(v[0]);
        y[i + 1] = fn::sigmoid(v[1]);
        continue;
      }
      const F2 e = exp_pair(arg);
      const U2 nonnegative = __builtin_bit_cast(U2, v >= 0.0);
      const F2 numerator =
          __builtin_bit_cast(F2, (nonnegative & one) | (~nonnegative & __builtin_bit_cast(U2, e)));
      store_pair(numerator / (1.0 + e), y + i);
    }
  }
#endif
  for (; i < n; ++i) y[i] = fn::sigmoid(x[i]);
}

}  // namespace stepgrad::kernels::STEPGRAD_KERNELS_NAMESPACE
