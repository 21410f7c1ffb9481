// The kernels against a naive triple loop: every transpose combination, loop-sized and
// BLAS-sized products, beta == 0 overwriting garbage, beta == 1 accumulating.
#include <cmath>
#include <limits>

#include <boost/test/unit_test.hpp>

#include "common/check.hpp"
#include "kernels.hpp"
#include "random.hpp"

using namespace stepgrad;

namespace {
Tensor random_matrix(RandomState& rng, std::size_t r, std::size_t c) { return rng.randn(r, c); }

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
}  // namespace

BOOST_AUTO_TEST_SUITE(kernels)

BOOST_AUTO_TEST_CASE(gemm_matches_the_textbook_product_for_every_transpose) {
  RandomState rng(5);
  // (m, n, k): vector products, small loops, and sizes that go to OpenBLAS
  for (auto [m, n, k] : {std::array<std::size_t, 3>{7, 1, 13},
                         {5, 3, 4},
                         {64, 1, 128},
                         {128, 32, 784},
                         {10, 128, 64},
                         {33, 65, 17}}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        const Tensor a = ta ? random_matrix(rng, k, m) : random_matrix(rng, m, k);
        const Tensor b = tb ? random_matrix(rng, n, k) : random_matrix(rng, k, n);
        const Tensor want = naive(ta, tb, a, b, m, n, k);
        Tensor c(Shape::matrix(m, n),
                 std::numeric_limits<double>::quiet_NaN());  // beta == 0: never read
        stepgrad::kernels::gemm(ta, tb, m, n, k, a.data(), b.data(), 0.0, c.data());
        BOOST_TEST_CONTEXT("m=" << m << " n=" << n << " k=" << k << " ta=" << ta << " tb=" << tb) {
          // Different summation orders round differently; an element that cancels to near 0 is
          // compared at the scale of its N(0, 1) terms (floor 1), not at its own tiny size.
          BOOST_TEST(testing::close(c, want, 1e-12, 1.0));
          stepgrad::kernels::gemm(ta, tb, m, n, k, a.data(), b.data(), 1.0,
                                  c.data());  // accumulates
          BOOST_TEST(testing::close(c, 2.0 * want, 1e-12, 1.0));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(outer_writes_or_accumulates) {
  const Tensor u = Tensor::vector({1, 2});
  const Tensor v = Tensor::vector({3, 4, 5});
  Tensor c(Shape::matrix(2, 3), std::numeric_limits<double>::quiet_NaN());
  stepgrad::kernels::outer(2, 3, 2.0, u.data(), v.data(), 0.0, c.data());
  BOOST_TEST(testing::identical(c, Tensor::matrix({{6, 8, 10}, {12, 16, 20}})));
  stepgrad::kernels::outer(2, 3, 1.0, u.data(), v.data(), 1.0, c.data());
  BOOST_TEST(testing::identical(c, Tensor::matrix({{9, 12, 15}, {18, 24, 30}})));
}

BOOST_AUTO_TEST_CASE(dot_sums_in_eight_fixed_lanes) {
  RandomState rng(6);
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 784u}) {
    std::vector<double> a(n), b(n);
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = rng.randn();
      b[i] = rng.randn();
    }
    double lane[8] = {};
    for (std::size_t i = 0; i < n; ++i) lane[i % 8] += a[i] * b[i];  // Note [Summation order]
    const double want =
        ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
    BOOST_TEST(stepgrad::kernels::dot(a.data(), b.data(), n) == want);
  }
}

BOOST_AUTO_TEST_CASE(skipping_zeros_and_storing_the_transpose_change_no_bit) {
  // Note [Sparse inputs] and Note [Summation order]: a mostly-zero vector takes the sparse
  // path, W^T · v is computed from W; both must give exactly the dense, stored-W^T numbers.
  RandomState rng(8);
  const Tensor w = rng.randn(128, 784);
  Tensor x = Tensor::zeros(784);
  for (std::size_t j = 0; j < 784; ++j)
    if (rng.random_sample() < 0.2) x[j] = rng.random_sample();
  BOOST_TEST(!stepgrad::kernels::sparse_support(x.data(), 784).empty());
  Tensor sparse(Shape::vector(128));
  stepgrad::kernels::gemm(false, false, 128, 1, 784, w.data(), x.data(), 0.0, sparse.data());
  Tensor dense(Shape::vector(128));
  for (std::size_t i = 0; i < 128; ++i)
    dense[i] = stepgrad::kernels::dot(w.data() + i * 784, x.data(), 784);
  BOOST_TEST(testing::identical(sparse, dense));

  const Tensor g = rng.randn(128, 1);
  Tensor from_w(Shape::vector(784));
  stepgrad::kernels::gemm(true, false, 784, 1, 128, w.data(), g.data(), 0.0, from_w.data());
  const Tensor wt = transpose(w);
  Tensor from_wt(Shape::vector(784));
  stepgrad::kernels::gemm(false, false, 784, 1, 128, wt.data(), g.data(), 0.0, from_wt.data());
  BOOST_TEST(testing::identical(from_w, from_wt));
}

BOOST_AUTO_TEST_CASE(sparse_support_lists_the_nonzeros_of_a_mostly_zero_vector) {
  const Tensor v = Tensor::vector({0, 1.5, 0, 0, -2, 0});
  const auto nz = stepgrad::kernels::sparse_support(v.data(), v.size());
  const std::vector<std::uint32_t> want{1, 4};
  BOOST_TEST(std::vector<std::uint32_t>(nz.begin(), nz.end()) == want,
             boost::test_tools::per_element());
  Tensor c(Shape::matrix(2, 6), 7.0);
  stepgrad::kernels::outer_columns(2, 6, 1.0, Tensor::vector({1, 2}).data(), v.data(), nz,
                                   c.data());
  BOOST_TEST(testing::identical(c, Tensor::matrix({{7, 1.5, 7, 7, -2, 7}, {7, 3, 7, 7, -4, 7}})));
  // (the next call reuses the buffer nz points into)
  BOOST_TEST(stepgrad::kernels::sparse_support(Tensor::vector({1, 2, 0}).data(), 3)
                 .empty());  // mostly nonzero
}

BOOST_AUTO_TEST_SUITE_END()
