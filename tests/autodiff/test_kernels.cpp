// The kernels against a naive triple loop: every transpose combination, loop-sized and
// BLAS-sized products, beta == 0 overwriting garbage, beta == 1 accumulating.
#include <cmath>
#include <limits>
#include <thread>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/kernels.hpp>
#include <stepgrad/autodiff/random.hpp>
#include "common/alloc_counter.hpp"
#include "common/check.hpp"

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
    BOOST_TEST(stepgrad::kernels::dot(a.data(), b.data(), n) == want);
  }
}

BOOST_AUTO_TEST_CASE(skipping_zeros_and_storing_the_transpose_change_no_bit) {
  // Note [Sparse inputs] and Note [Summation order]: a mostly-zero vector takes the sparse
  // path, W^T · v is computed from W; both must give exactly the dense, stored-W^T numbers.
  RandomState rng(8);
  const Tensor w = rng.randn(128, 784);
  Tensor x = Tensor::zeros(784);
  for (std::size_t j = 203; j < 397; ++j)  // lit pixels cluster, as a digit's strokes do
    if (rng.random_sample() < 0.5) x[j] = rng.random_sample();
  BOOST_TEST(!stepgrad::kernels::nonzero_blocks(x.data(), 784).empty());
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

BOOST_AUTO_TEST_CASE(nonzero_blocks_lists_the_blocks_of_8_that_hold_data) {
  Tensor v = Tensor::zeros(30);  // blocks [0, 8) [8, 16) [16, 24) [24, 30)
  v[9] = 1.5;
  v[29] = -2.0;
  const auto blocks = stepgrad::kernels::nonzero_blocks(v.data(), v.size());
  const std::vector<std::uint32_t> want{1, 3};
  BOOST_TEST(std::vector<std::uint32_t>(blocks.begin(), blocks.end()) == want,
             boost::test_tools::per_element());
  Tensor c(Shape::matrix(2, 30), 7.0);
  stepgrad::kernels::outer_blocks(2, 30, 1.0, Tensor::vector({1, 2}).data(), v.data(), blocks,
                                  c.data());
  for (std::size_t j = 0; j < 30; ++j) {
    const bool written = (j >= 8 && j < 16) || j >= 24;
    BOOST_TEST(c(0, j) == (written ? v[j] : 7.0));
    BOOST_TEST(c(1, j) == (written ? 2.0 * v[j] : 7.0));
  }
  // (the next call reuses the buffer `blocks` points into)
  v[0] = v[17] = 1.0;  // 3 of 4 blocks hold data: dense is as fast
  BOOST_TEST(stepgrad::kernels::nonzero_blocks(v.data(), v.size()).empty());
}

BOOST_AUTO_TEST_CASE(sparse_kernels_agree_with_plain_loops_at_ragged_sizes) {
  // 7 rows (the product's 4-row groups plus 3 left over) by 61 columns (a partial last block
  // of 5), the last block holding data and coming after block 3 in the same lane register:
  // every edge of the block-sparse loops, bit for bit.
  RandomState rng(11);
  const std::size_t m = 7;
  const std::size_t k = 61;
  const Tensor w = rng.randn(m, k);
  Tensor x = Tensor::zeros(k);
  for (std::size_t j :
       {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 17u, 20u, 21u, 25u, 30u, 56u, 57u, 58u, 59u, 60u}) {
    x[j] = rng.randn();
  }
  const auto blocks = stepgrad::kernels::nonzero_blocks(x.data(), k);
  const std::vector<std::uint32_t> want_blocks{0, 2, 3, 7};
  BOOST_TEST(std::vector<std::uint32_t>(blocks.begin(), blocks.end()) == want_blocks,
             boost::test_tools::per_element());
  const std::vector<std::uint32_t> lit(blocks.begin(), blocks.end());  // outlives the next call

  Tensor product(Shape::vector(m));
  stepgrad::kernels::gemm(false, false, m, 1, k, w.data(), x.data(), 0.0, product.data());
  for (std::size_t i = 0; i < m; ++i) {
    BOOST_TEST(product[i] == stepgrad::kernels::dot(w.data() + i * k, x.data(), k));
  }

  const Tensor u = rng.randn(m, 1);
  const double lr = 0.001;
  Tensor by_outer = w;  // W -= lr · (u ⊗ x), the update of the fused step
  stepgrad::kernels::sub_outer_blocks(m, k, lr, u.data(), x.data(), lit, by_outer.data());
  const Tensor g = rng.randn(m, k);
  Tensor by_scaled = w;  // W -= lr · G on the listed blocks, the update of sgd_step
  stepgrad::kernels::sub_scaled_blocks(m, k, lr, g.data(), lit, by_scaled.data());
  const Tensor v = rng.randn(k, 1);
  Tensor by_dense_outer = w;  // W -= lr · (u ⊗ v) everywhere, the fused step's dense layers
  stepgrad::kernels::sub_outer(m, k, lr, u.data(), v.data(), by_dense_outer.data());
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < k; ++j) {
      const bool listed = j < 8 || (j >= 16 && j < 32) || j >= 56;
      BOOST_TEST(by_outer(i, j) == w(i, j) - lr * (u[i] * x[j]));
      BOOST_TEST(by_scaled(i, j) == (listed ? w(i, j) - lr * g(i, j) : w(i, j)));
      BOOST_TEST(by_dense_outer(i, j) == w(i, j) - lr * (u[i] * v[j]));
    }
  }
}

BOOST_AUTO_TEST_CASE(nonzero_blocks_counts_negative_zero_as_zero_and_nan_as_data) {
  Tensor v = Tensor::zeros(32);
  v[3] = -0.0;
  v[20] = std::numeric_limits<double>::quiet_NaN();
  const auto blocks = stepgrad::kernels::nonzero_blocks(v.data(), v.size());
  const std::vector<std::uint32_t> want{2};
  BOOST_TEST(std::vector<std::uint32_t>(blocks.begin(), blocks.end()) == want,
             boost::test_tools::per_element());
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
  std::thread([&] {
    stepgrad::kernels::gemm(false, false, 16, 1, 784, w.data(), few.data(), 0.0, y.data());
    const testing::AllocationCounter counter;
    stepgrad::kernels::gemm(false, false, 16, 1, 784, w.data(), many.data(), 0.0, y.data());
    allocations = counter.count();
  }).join();
  BOOST_TEST(stepgrad::kernels::nonzero_blocks(many.data(), 784).size() == 45u);
  BOOST_TEST(allocations == 0);
}

BOOST_AUTO_TEST_SUITE_END()
