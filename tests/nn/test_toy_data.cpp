// make_moons against scikit-learn's: the same shuffle and noise (RandomState's draws), the same
// labels, points within an ulp or two of 1 (numpy's cos and sin are not glibc's).
#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/test/unit_test.hpp>

#include <stepgrad/nn/toy_data.hpp>

using namespace stepgrad;

BOOST_AUTO_TEST_SUITE(toy_data)

// Reference values from scikit-learn 1.2.1 (Debian's python3-sklearn, numpy 1.24):
//   X, y = sklearn.datasets.make_moons(10, noise=0.1, random_state=0)
// On this AVX-512 machine numpy's cos and sin differ from glibc's by up to 4.4e-16 on the
// circles; sklearn's own code with math.cos and math.sin gives make_moons' bits exactly.
BOOST_AUTO_TEST_CASE(make_moons_equals_scikit_learns) {
  const LabelledPoints p = make_moons(10, 0.1, 0);
  const double want[10][2] = {
      {0.095008841752559, 0.9848642791702302},   {1.6967848960071916, -0.16604693099271045},
      {-0.9855956428839122, 0.1454273506962976}, {2.076103772514699, 0.5121675016492827},
      {0.7514931044610903, 0.7404742139239743},  {0.4423011261292129, -0.22762260756312766},
      {1.03130677016509, -0.5854095739301725},   {-0.9624057627699554, 0.7724686407305837},
      {1.0864436198859506, -0.0742165020406442}, {0.22697546239876076, 0.3545634325401235}};
  const int labels[10] = {0, 1, 0, 1, 0, 1, 1, 0, 0, 1};
  BOOST_TEST((p.X.shape() == Shape::matrix(2, 10)));
  for (std::size_t i = 0; i < 10; ++i) {
    BOOST_TEST(p.y[i] == labels[i]);
    BOOST_TEST(std::abs(p.X(0, i) - want[i][0]) <= 4.5e-16);
    BOOST_TEST(std::abs(p.X(1, i) - want[i][1]) <= 4.5e-16);
  }
  //   make_moons(200, noise=0.2, random_state=0): the first and last points, 100 of class 1
  const LabelledPoints q = make_moons(200, 0.2, 0);
  BOOST_TEST(std::abs(q.X(0, 0) - 0.7434611761955393) <= 4.5e-16);
  BOOST_TEST(std::abs(q.X(1, 0) - 0.46465632837724585) <= 4.5e-16);
  BOOST_TEST(std::abs(q.X(0, 199) - 1.5215204998025176) <= 4.5e-16);
  BOOST_TEST(std::abs(q.X(1, 199) - -0.12589229565958074) <= 4.5e-16);
  BOOST_TEST(q.y[0] == 0);
  BOOST_TEST(q.y[199] == 1);
  BOOST_TEST(std::accumulate(q.y.begin(), q.y.end(), 0) == 100);
}

BOOST_AUTO_TEST_CASE(without_noise_the_points_lie_on_the_two_half_circles) {
  // make_moons(7, noise=0.0, random_state=3): 3 on the upper moon, 4 on the lower one
  const LabelledPoints p = make_moons(7, 0.0, 3);
  BOOST_TEST(std::count(p.y.begin(), p.y.end(), 1) == 4);
  for (std::size_t i = 0; i < 7; ++i) {
    // upper: centre (0, 0); lower: centre (1, 0.5); radius 1, and on the right side of it
    const double cx = p.y[i] == 0 ? 0.0 : 1.0, cy = p.y[i] == 0 ? 0.0 : 0.5;
    const double dx = p.X(0, i) - cx, dy = p.X(1, i) - cy;
    BOOST_TEST(std::abs(dx * dx + dy * dy - 1.0) <= 1e-15);
    BOOST_TEST((p.y[i] == 0 ? dy >= 0.0 : dy <= 0.0));
  }
}

BOOST_AUTO_TEST_SUITE_END()
