// The dense fused step (bench/dense_step.hpp) against the fused hand-derived step of nn/: the
// same weights, bit for bit, after every step, although it updates W0 one step late (Note [One
// pass over W0]). A yardstick that computed something else would measure nothing.
#define BOOST_TEST_MODULE stepgrad bench
#include <boost/test/unit_test.hpp>

#include <stdexcept>

#include <stepgrad/nn/fused.hpp>
#include "common/check.hpp"
#include "common/digits.hpp"
#include "dense_step.hpp"

using namespace stepgrad;

BOOST_AUTO_TEST_SUITE(dense_step)

BOOST_AUTO_TEST_CASE(the_dense_step_trains_the_fused_steps_weights_bit_for_bit) {
  Network fused_net;
  FusedDeltasStep fused;
  bench::DenseFusedStep dense(fused_net);
  for (std::uint32_t k = 0; k < 40; ++k) {
    testing::Sample s = testing::synthetic_sample(900 + k);
    if (k == 5) s.x.fill(0.0);  // a black image
    if (k == 9) s.x.fill(1.0);  // every pixel lit
    const Tensor& expected = fused.step(fused_net, s.x, s.y, Recipe::fixed, 0.05);
    const Tensor& got = dense.step(s.x, s.y, 0.05);
    BOOST_TEST_CONTEXT("step " << k) {
      BOOST_TEST(testing::identical(got, expected));
      BOOST_TEST(testing::identical(dense.W1(), fused_net.W1.value));
      BOOST_TEST(testing::identical(dense.W2(), fused_net.W2.value));
    }
  }
  BOOST_TEST(!testing::identical(dense.W0(), fused_net.W0.value));  // one update pending
  dense.finish();
  BOOST_TEST(testing::identical(dense.W0(), fused_net.W0.value));
  BOOST_TEST(testing::identical(dense.W1(), fused_net.W1.value));
  BOOST_TEST(testing::identical(dense.W2(), fused_net.W2.value));
}

// The fast yardstick against the plain one it speeds up (and so against the fused step), on a
// run long enough that the weights move, with the first step's pending update of zero, a black
// and a white image, and learning rates that change between steps (the pending update must use
// the rate of the step it belongs to).
BOOST_AUTO_TEST_CASE(the_fast_dense_step_gives_the_plain_ones_bits) {
  Network net;
  bench::DenseFusedStep plain(net);
  bench::FastDenseFusedStep fast(net);
  for (std::uint32_t k = 0; k < 60; ++k) {
    testing::Sample s = testing::synthetic_sample(1700 + k);
    if (k == 7) s.x.fill(0.0);
    if (k == 11) s.x.fill(1.0);
    const double lr = k % 3 == 0 ? 0.05 : 0.001 * (k + 1);
    const Tensor& expected = plain.step(s.x, s.y, lr);
    const Tensor& got = fast.step(s.x, s.y, lr);
    BOOST_TEST_CONTEXT("step " << k) {
      BOOST_TEST(testing::identical(got, expected));
      BOOST_TEST(testing::identical(fast.W0(), plain.W0()));
      BOOST_TEST(testing::identical(fast.W1(), plain.W1()));
      BOOST_TEST(testing::identical(fast.W2(), plain.W2()));
    }
  }
  plain.finish();
  fast.finish();
  BOOST_TEST(testing::identical(fast.W0(), plain.W0()));
  // A mutant check: the fast step must see a change the plain one makes.
  BOOST_TEST(!testing::identical(fast.W0(), net.W0.value));
}

BOOST_AUTO_TEST_CASE(only_the_articles_network_is_accepted) {
  BOOST_CHECK_THROW(bench::DenseFusedStep(Network(NetworkOptions{.bias = true})),
                    std::invalid_argument);
  BOOST_CHECK_THROW(bench::DenseFusedStep(Network(NetworkOptions{.activation = Activation::relu})),
                    std::invalid_argument);
  Network net;
  bench::DenseFusedStep dense(net);
  BOOST_CHECK_THROW(dense.step(Tensor::zeros(10), Tensor::zeros(10), 0.1), std::invalid_argument);
  BOOST_CHECK_THROW(bench::FastDenseFusedStep(Network(NetworkOptions{.bias = true})),
                    std::invalid_argument);
  bench::FastDenseFusedStep fast(net);
  BOOST_CHECK_THROW(fast.step(Tensor::zeros(10), Tensor::zeros(10), 0.1), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
