// RandomState against numpy's legacy generator, bit for bit. Reference values were printed
// by numpy 1.24 (/usr/bin/python3), e.g. `np.random.RandomState(42).randn(1001)`.
#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/random.hpp>

using namespace stepgrad;

BOOST_AUTO_TEST_SUITE(random_state)

BOOST_AUTO_TEST_CASE(random_sample_matches_numpy) {
  RandomState r(0);  // np.random.RandomState(0).random_sample(3)
  BOOST_TEST(r.random_sample() == 0.5488135039273248);
  BOOST_TEST(r.random_sample() == 0.7151893663724195);
  BOOST_TEST(r.random_sample() == 0.6027633760716439);
}

BOOST_AUTO_TEST_CASE(randn_matches_numpy_seed_42) {
  RandomState r(42);  // np.random.seed(42); np.random.randn(1001)
  std::vector<double> x;
  for (int i = 0; i < 1001; ++i) x.push_back(r.randn());
  BOOST_TEST(x[0] == 0.4967141530112327);
  BOOST_TEST(x[1] == -0.13826430117118466);
  BOOST_TEST(x[2] == 0.6476885381006925);
  BOOST_TEST(x[999] == 0.5725827813561586);
  BOOST_TEST(x[1000] == 1.3993554365860021);
}

BOOST_AUTO_TEST_CASE(randn_keeps_its_cached_value_across_other_draws) {
  // r = RandomState(1); r.randn(), r.random_sample(), r.randn(), r.randn()
  RandomState r(1);
  BOOST_TEST(r.randn() == 1.6243453636632417);
  BOOST_TEST(r.random_sample() == 0.00011437481734488664);
  BOOST_TEST(r.randn() == -0.6117564136500754);  // the cached second value of the first pair
  BOOST_TEST(r.randn() == -0.8021728386486427);
}

BOOST_AUTO_TEST_CASE(randn_matrix_is_filled_row_major) {
  RandomState a(42);
  RandomState b(42);
  const Tensor m = a.randn(2, 3);
  for (std::size_t i = 0; i < 6; ++i) BOOST_TEST(m[i] == b.randn());
}

BOOST_AUTO_TEST_CASE(permutation_matches_numpy) {
  const auto p = RandomState(42).permutation(70000);
  BOOST_TEST(p.size() == 70000u);
  BOOST_TEST(p[0] == 46730u);
  BOOST_TEST(p[1] == 48393u);
  BOOST_TEST(p[2] == 41416u);
  BOOST_TEST(p[21000] == 68681u);
  BOOST_TEST(p[21001] == 19961u);
  BOOST_TEST(p[21002] == 11040u);
  BOOST_TEST(p[69997] == 54886u);
  BOOST_TEST(p[69998] == 860u);
  BOOST_TEST(p[69999] == 15795u);
  std::vector<bool> seen(70000, false);
  for (std::size_t v : p) seen[v] = true;
  BOOST_TEST(std::count(seen.begin(), seen.end(), true) == 70000);

  const std::vector<std::size_t> seven{8, 5, 0, 2, 1, 9, 7, 3, 6, 4};
  BOOST_TEST(RandomState(7).permutation(10) == seven, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_largest_seed_matches_numpy) {
  const std::vector<std::size_t> p{4, 1, 0, 2, 3};  // RandomState(2**32 - 1).permutation(5)
  BOOST_TEST(RandomState(4294967295u).permutation(5) == p, boost::test_tools::per_element());
  BOOST_TEST(RandomState(4294967295u).randn() == 0.6484086742306527);
}

BOOST_AUTO_TEST_CASE(random_interval_stays_in_range) {
  RandomState r(3);
  for (std::uint32_t max : {0u, 1u, 2u, 5u, 255u, 256u, 70000u, 4294967295u}) {
    for (int i = 0; i < 200; ++i) BOOST_TEST(r.random_interval(max) <= max);
  }
}

BOOST_AUTO_TEST_SUITE_END()
