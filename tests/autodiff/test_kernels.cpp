// The kernels: every implementation (the reference, the fast, and the fast ones as the explorer's
// WebAssembly build compiles them) against a naive triple loop (every transpose combination,
// loop-sized and BLAS-sized products, beta == 0 overwriting garbage, beta == 1 accumulating), and
// the fast kernels against the reference ones, bit for bit where Note [Reference and fast
// kernels] promises it.
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/kernels.hpp>
#include <stepgrad/autodiff/random.hpp>
#include "common/alloc_counter.hpp"
#include "common/check.hpp"

#if STEPGRAD_FAST_KERNELS
// kernels_fast.cpp compiled again as the explorer's WebAssembly build compiles it: the portable
// Block in place of std::experimental::simd, without OpenBLAS (tests/meson.build); the same
// functions as the fast kernels'.
namespace stepgrad::kernels::portable {
decltype(fast::dot) dot;
decltype(fast::gemm) gemm;
decltype(fast::outer) outer;
decltype(fast::sub_outer) sub_outer;
decltype(fast::sigmoid) sigmoid;
decltype(fast::sigmoid_vectorised) sigmoid_vectorised;
}  // namespace stepgrad::kernels::portable
#endif

using namespace stepgrad;

namespace {

// One implementation of the kernels' interface.
struct Kernels {
  const char* name;
  double (*dot)(const double*, const double*, std::size_t);
  void (*gemm)(bool, bool, std::size_t, std::size_t, std::size_t, const double*, const double*,
               double, double*);
  void (*outer)(std::size_t, std::size_t, double, const double*, const double*, double, double*);
  void (*sub_outer)(std::size_t, std::size_t, double, const double*, const double*, double*);
  void (*sigmoid)(std::size_t, const double*, double*);
  bool blas;  // hands big minibatch products to OpenBLAS, whose order of summation is its own
};
constexpr Kernels reference{"reference",
                            kernels::reference::dot,
                            kernels::reference::gemm,
                            kernels::reference::outer,
                            kernels::reference::sub_outer,
                            kernels::reference::sigmoid,
                            false};
// The ones the engine calls: the fast kernels unless built with -Dfast_kernels=false.
constexpr Kernels chosen{STEPGRAD_FAST_KERNELS ? "fast" : "reference",
                         kernels::dot,
                         kernels::gemm,
                         kernels::outer,
                         kernels::sub_outer,
                         kernels::sigmoid,
                         STEPGRAD_FAST_KERNELS == 1 && STEPGRAD_BLAS == 1};
#if STEPGRAD_FAST_KERNELS
constexpr Kernels portable{"portable",
                           kernels::portable::dot,
                           kernels::portable::gemm,
                           kernels::portable::outer,
                           kernels::portable::sub_outer,
                           kernels::portable::sigmoid,
                           false};
constexpr std::array<Kernels, 3> impls{reference, chosen, portable};
constexpr std::array<Kernels, 2> fast_impls{chosen, portable};  // held to the reference's bits
#else
constexpr std::array<Kernels, 2> impls{reference, chosen};
constexpr std::array<Kernels, 1> fast_impls{chosen};
#endif

// C = op(A) op(B), the textbook way.
Tensor naive(bool ta, bool tb, const Tensor& a, const Tensor& b, std::size_t m, std::size_t n,
             std::size_t k) {
  Tensor c = Tensor::zeros(m, n);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (std::size_t p = 0; p < k; ++p) s += (ta ? a(p, i) : a(i, p)) * (tb ? b(j, p) : b(p, j));
      c(i, j) = s;
    }
  return c;
}

// An image-like vector: zero but for clusters of lit values, as a digit's strokes.
Tensor sparse_vector(RandomState& rng, std::size_t n, std::size_t from, std::size_t to) {
  Tensor x = Tensor::zeros(n);
  for (std::size_t j = from; j < to && j < n; ++j)
    if (rng.random_sample() < 0.5) x[j] = rng.random_sample();
  return x;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kernels)

BOOST_AUTO_TEST_CASE(gemm_matches_the_textbook_product_for_every_transpose) {
  RandomState rng(5);
  // (m, n, k): vector products, small loops, and sizes that go to OpenBLAS
  for (const Kernels& impl : impls) {
    for (auto [m, n, k] : {std::array<std::size_t, 3>{7, 1, 13},
                           {5, 3, 4},
                           {64, 1, 128},
                           {128, 32, 784},
                           {10, 128, 64},
                           {33, 65, 17}}) {
      for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
          const Tensor a = ta ? rng.randn(k, m) : rng.randn(m, k);
          const Tensor b = tb ? rng.randn(n, k) : rng.randn(k, n);
          const Tensor want = naive(ta, tb, a, b, m, n, k);
          Tensor c(Shape::matrix(m, n),
                   std::numeric_limits<double>::quiet_NaN());  // beta == 0: never read
          impl.gemm(ta, tb, m, n, k, a.data(), b.data(), 0.0, c.data());
          BOOST_TEST_CONTEXT(impl.name << " m=" << m << " n=" << n << " k=" << k << " ta=" << ta
                                       << " tb=" << tb) {
            // Different summation orders round differently; an element that cancels to near 0
            // is compared at the scale of its N(0, 1) terms (floor 1), not at its own tiny size.
            BOOST_TEST(testing::close(c, want, 1e-12, 1.0));
            impl.gemm(ta, tb, m, n, k, a.data(), b.data(), 1.0, c.data());  // accumulates
            BOOST_TEST(testing::close(c, 2.0 * want, 1e-12, 1.0));
          }
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(outer_writes_or_accumulates) {
  for (const Kernels& impl : impls) {
    BOOST_TEST_CONTEXT(impl.name) {
      const Tensor u = Tensor::vector({1, 2});
      const Tensor v = Tensor::vector({3, 4, 5});
      Tensor c(Shape::matrix(2, 3), std::numeric_limits<double>::quiet_NaN());
      impl.outer(2, 3, 2.0, u.data(), v.data(), 0.0, c.data());
      BOOST_TEST(testing::identical(c, Tensor::matrix({{6, 8, 10}, {12, 16, 20}})));
      impl.outer(2, 3, 1.0, u.data(), v.data(), 1.0, c.data());
      BOOST_TEST(testing::identical(c, Tensor::matrix({{9, 12, 15}, {18, 24, 30}})));
    }
  }
}

BOOST_AUTO_TEST_CASE(dot_sums_in_32_fixed_lanes) {
  RandomState rng(6);
  for (std::size_t n : {0u, 1u, 7u, 8u, 31u, 32u, 33u, 784u}) {
    std::vector<double> a(n), b(n);
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = rng.randn();
      b[i] = rng.randn();
    }
    double lane[32] = {};
    for (std::size_t i = 0; i < n; ++i) lane[i % 32] += a[i] * b[i];  // Note [Summation order]
    double v[8];
    for (std::size_t l = 0; l < 8; ++l)
      v[l] = (lane[l] + lane[16 + l]) + (lane[8 + l] + lane[24 + l]);
    const double want = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
    for (const Kernels& impl : impls) BOOST_TEST(impl.dot(a.data(), b.data(), n) == want);
  }
}

BOOST_AUTO_TEST_CASE(the_fast_kernels_give_the_reference_bits_for_every_per_sample_product) {
  // Note [Reference and fast kernels]: products with one column (sparse or dense inputs, W or
  // W^T), outer products and updates, at the article's sizes and at ragged ones (7 rows: the
  // product's 4-row groups plus 3; 61 columns: a partial last block of 5, holding data).
  for (const Kernels& impl : fast_impls) {
    RandomState rng(8);
    for (auto [m, k] : {std::array<std::size_t, 2>{128, 784},
                        {64, 128},
                        {10, 64},
                        {7, 61},
                        {40, 13},
                        {45, 50},
                        {100, 70},
                        {33, 100}}) {
      BOOST_TEST_CONTEXT(impl.name << " m=" << m << " k=" << k) {
        const Tensor w = rng.randn(m, k);
        for (const Tensor& x : {sparse_vector(rng, k, k / 4, k / 2), sparse_vector(rng, k, 0, k),
                                Tensor::vector(rng.randn(k, 1).values())}) {
          Tensor want(Shape::vector(m)), got(Shape::vector(m));
          reference.gemm(false, false, m, 1, k, w.data(), x.data(), 0.0, want.data());
          impl.gemm(false, false, m, 1, k, w.data(), x.data(), 0.0, got.data());
          BOOST_TEST(testing::identical(got, want));  // W · x
          // W^T · g, also as the product with a stored W^T
          const Tensor g = Tensor::vector(rng.randn(m, 1).values());
          Tensor want_t(Shape::vector(k)), got_t(Shape::vector(k)), from_wt(Shape::vector(k));
          reference.gemm(true, false, k, 1, m, w.data(), g.data(), 0.0, want_t.data());
          impl.gemm(true, false, k, 1, m, w.data(), g.data(), 0.0, got_t.data());
          const Tensor wt = transpose(w);
          impl.gemm(false, false, k, 1, m, wt.data(), g.data(), 0.0, from_wt.data());
          BOOST_TEST(testing::identical(got_t, want_t));
          BOOST_TEST(testing::identical(from_wt, want_t));
          // beta = 1 adds to what is there, in both directions
          Tensor want_acc = Tensor::vector(rng.randn(m, 1).values()), got_acc = want_acc;
          Tensor want_acc_t = Tensor::vector(rng.randn(k, 1).values()), got_acc_t = want_acc_t;
          reference.gemm(false, false, m, 1, k, w.data(), x.data(), 1.0, want_acc.data());
          impl.gemm(false, false, m, 1, k, w.data(), x.data(), 1.0, got_acc.data());
          BOOST_TEST(testing::identical(got_acc, want_acc));
          reference.gemm(true, false, k, 1, m, w.data(), g.data(), 1.0, want_acc_t.data());
          impl.gemm(true, false, k, 1, m, w.data(), g.data(), 1.0, got_acc_t.data());
          BOOST_TEST(testing::identical(got_acc_t, want_acc_t));
          // W -= lr · (g ⊗ x), and g ⊗ x written out
          Tensor want_w = w, got_w = w;
          reference.sub_outer(m, k, 0.001, g.data(), x.data(), want_w.data());
          impl.sub_outer(m, k, 0.001, g.data(), x.data(), got_w.data());
          BOOST_TEST(testing::identical(got_w, want_w));
          // A stored W^T (a column-major W, Note [Column-major storage]): W · x, and the update
          // W^T -= lr · (x ⊗ g), which skips the rows where x is zero: W's bits either way.
          Tensor from_wt_x(Shape::vector(m)), ref_wt = transpose(w), got_wt = transpose(w);
          impl.gemm(true, false, m, 1, k, ref_wt.data(), x.data(), 0.0, from_wt_x.data());
          BOOST_TEST(testing::identical(from_wt_x, want));
          reference.sub_outer(k, m, 0.001, x.data(), g.data(), ref_wt.data());
          impl.sub_outer(k, m, 0.001, x.data(), g.data(), got_wt.data());
          BOOST_TEST(testing::identical(got_wt, ref_wt));
          BOOST_TEST(testing::identical(got_wt, transpose(want_w)));
          Tensor want_o(Shape::matrix(m, k)), got_o(Shape::matrix(m, k));
          reference.outer(m, k, 1.0, g.data(), x.data(), 0.0, want_o.data());
          impl.outer(m, k, 1.0, g.data(), x.data(), 0.0, got_o.data());
          BOOST_TEST(testing::identical(got_o, want_o));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(small_minibatch_products_are_bit_identical_big_ones_within_1e_12) {
  // Below OpenBLAS's size every element is summed in Note [Summation order]; above it the fast
  // kernels hand the product to OpenBLAS (when built in), whose order is its own.
  // A · B and A^T · B go column by column through matvec and matvec_transposed, which skip B's
  // zeros: B also as a batch of images (80% zeros), with columns past a multiple of 8 (13) and
  // a partial last block of rows (61), written (beta == 0) and accumulated (beta == 1).
  for (const Kernels& impl : fast_impls) {
    RandomState rng(9);
    for (auto [m, n, k, small] : {std::array<std::size_t, 4>{10, 32, 64, 1},
                                  {5, 3, 4, 1},
                                  {16, 13, 61, 1},
                                  {128, 32, 784, 0},
                                  {64, 128, 128, 0}}) {
      for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
          for (bool sparse : {false, true}) {
            const Tensor a = ta ? rng.randn(k, m) : rng.randn(m, k);
            Tensor b = tb ? rng.randn(n, k) : rng.randn(k, n);
            if (sparse) {
              for (double& v : b.values()) v = rng.random_sample() < 0.8 ? 0.0 : v;
            }
            Tensor want(Shape::matrix(m, n)), got(Shape::matrix(m, n));
            reference.gemm(ta, tb, m, n, k, a.data(), b.data(), 0.0, want.data());
            impl.gemm(ta, tb, m, n, k, a.data(), b.data(), 0.0, got.data());
            BOOST_TEST_CONTEXT(impl.name << " m=" << m << " n=" << n << " k=" << k << " ta=" << ta
                                         << " tb=" << tb << " sparse=" << sparse) {
              if (small == 1 || !impl.blas) {
                BOOST_TEST(testing::identical(got, want));
                reference.gemm(ta, tb, m, n, k, a.data(), b.data(), 1.0, want.data());
                impl.gemm(ta, tb, m, n, k, a.data(), b.data(), 1.0, got.data());
                BOOST_TEST(testing::identical(got, want));
              } else {
                BOOST_TEST(testing::close(got, want, 1e-12, 1.0));
              }
            }
          }
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_sigmoid_kernels_give_the_scalar_sigmoid_bits) {
  // Note [A vectorised exp with glibc's bits] and Note [A two-lane exp with musl's bits]:
  // arguments over every binade the vectorised exps handle, a network's usual range, and those
  // they leave to std::exp (0, tiny, |x| >= 512, subnormals, infinities, NaNs of both signs), in
  // a group with in-range values; and every length mod 4, so that a partial last group of four
  // (or of two) runs the scalar loop after the vector ones.
  std::vector<double> x;
  std::uint64_t state = 42;
  const auto next = [&] { return state = state * 6364136223846793005u + 1442695040888963407u; };
  for (int i = 0; i < 600000; ++i) {
    const std::uint64_t r = next();
    const double f = static_cast<double>(r >> 11) * 0x1p-53;
    const double sign = (r & 1) != 0 ? -1.0 : 1.0;
    x.push_back(sign * std::ldexp(1.0 + f, static_cast<int>((r >> 1) % 72) - 60));  // 2^-60..2^11
    x.push_back(sign * 40.0 * f);
  }
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double v : {0.0, 0x1p-54, 0x1p-55, 0x1.fffffffffffffp-55, 511.99999999999994, 512.0, 708.0,
                   709.8, 745.2, 746.0, 1e300, std::numeric_limits<double>::denorm_min(),
                   std::numeric_limits<double>::min(), inf, nan}) {
    for (double sv : {v, -v}) {  // in a group of four with in-range values, first and second
      for (double w : {sv, 0.5, -2.0, 3.0}) x.push_back(w);
      for (double w : {-1.5, sv, 0.25, -7.0}) x.push_back(w);
    }
  }
  for (double v : {nan, -nan, -0.0}) x.push_back(v);
  x.push_back(1.0);
  BOOST_TEST(x.size() % 4 == 0u);  // the lengths below: x.size() - cut, every length mod 4
  for (const Kernels& impl : impls) {
    for (const std::size_t cut : {0u, 1u, 2u, 3u})
      BOOST_TEST_CONTEXT(impl.name << ", length - " << cut) {
        const std::size_t n = x.size() - cut;
        std::vector<double> got(n);
        impl.sigmoid(n, x.data(), got.data());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const double want = fn::sigmoid(x[i]);
          if (std::memcmp(&want, &got[i], sizeof want) != 0 && differ++ < 5) {
            BOOST_ERROR(fmt::format("sigmoid({:a}) = {:a}, the scalar function gives {:a}", x[i],
                                    got[i], want));
          }
        }
        BOOST_TEST(differ == 0u);
        std::vector<double> in_place(x.begin(),
                                     x.begin() + static_cast<std::ptrdiff_t>(n));  // y = x
        impl.sigmoid(n, in_place.data(), in_place.data());
        BOOST_TEST(std::memcmp(in_place.data(), got.data(), got.size() * sizeof(double)) == 0);
      }
  }
#if STEPGRAD_FAST_KERNELS && defined(__GLIBC__)
  // The checks above ran the vector paths, not only the scalar fallback: the fast kernels' four
  // lanes where glibc's exp is its FMA build (x86-64 with FMA: the default here), the portable
  // kernels' two lanes (the page's) where it is the plain build, as musl's is. tests/meson.build
  // runs this test both ways (kernels, and kernels_plain_exp with GLIBC_TUNABLES, which also sets
  // STEPGRAD_EXPECT_PLAIN_EXP: a glibc that ignored the tunable would fail it, not skip the two
  // lanes' check). The builds differ at this argument (as at about 0.05% of a sigmoid's).
  volatile double at = -0x1.6ac9cd3c015b5p+2;  // glibc's exp, not the compiler's (MPFR's)
  const bool plain_exp = std::exp(at) == 0x1.c49110c13401p-9;
  BOOST_TEST_MESSAGE("glibc's exp: " << (plain_exp ? "plain" : "FMA") << " build");
  if (std::getenv("STEPGRAD_EXPECT_PLAIN_EXP") != nullptr) BOOST_TEST(plain_exp);
  if (plain_exp) {
    BOOST_TEST(stepgrad::kernels::portable::sigmoid_vectorised());
  } else {
#if defined(__AVX2__) && defined(__FMA__)
    BOOST_TEST(stepgrad::kernels::fast::sigmoid_vectorised());
#endif
  }
#endif
}

BOOST_AUTO_TEST_CASE(a_nan_in_a_sparse_input_is_data_not_a_zero) {
  // The fast kernels skip blocks of zeros; a NaN must not look like one.
  RandomState rng(10);
  const Tensor w = rng.randn(4, 64);
  Tensor x = Tensor::zeros(64);
  x[20] = std::numeric_limits<double>::quiet_NaN();
  x[3] = -0.0;  // counts as zero
  for (const Kernels& impl : impls) {
    Tensor y(Shape::vector(4));
    impl.gemm(false, false, 4, 1, 64, w.data(), x.data(), 0.0, y.data());
    for (std::size_t i = 0; i < 4; ++i) BOOST_TEST(std::isnan(y[i]));
    Tensor u = w;
    impl.sub_outer(4, 64, 0.1, Tensor::vector({1, 1, 1, 1}).data(), x.data(), u.data());
    BOOST_TEST(std::isnan(u(0, 20)));
  }
}

BOOST_AUTO_TEST_CASE(the_sparse_product_allocates_nothing_once_it_has_run) {
  // Its per-thread buffers are sized for every block on the first call, not for that call's
  // blocks: a later image with more lit blocks must not allocate. A new thread starts with
  // empty buffers, whatever the tests before this one did.
  RandomState rng(12);
  const Tensor w = rng.randn(16, 784);
  Tensor few = Tensor::zeros(784);
  few[100] = 1.0;  // one block
  Tensor many = Tensor::zeros(784);
  for (std::size_t q = 0; q < 45; ++q) many[q * 16] = 0.5;  // 45 of 98 blocks: still sparse
  Tensor y(Shape::vector(16));
  long allocations = -1;
  Tensor u = w;
  std::thread([&] {
    stepgrad::kernels::gemm(false, false, 16, 1, 784, w.data(), few.data(), 0.0, y.data());
    stepgrad::kernels::sub_outer(16, 784, 0.1, y.data(), few.data(), u.data());
    const testing::AllocationCounter counter;
    stepgrad::kernels::gemm(false, false, 16, 1, 784, w.data(), many.data(), 0.0, y.data());
    stepgrad::kernels::sub_outer(16, 784, 0.1, y.data(), many.data(), u.data());
    allocations = counter.count();
  }).join();
  BOOST_TEST(allocations == 0);
}

BOOST_AUTO_TEST_SUITE_END()
