// The fused hand-derived step against its oracle, deltas_sgd_step: the same bits, for both
// recipes and every network option, over many steps; and no allocation after the first.
#include <boost/test/unit_test.hpp>

#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/fused.hpp>
#include "common/alloc_counter.hpp"
#include "common/check.hpp"
#include "common/digits.hpp"

using namespace stepgrad;

BOOST_AUTO_TEST_SUITE(fused)

BOOST_AUTO_TEST_CASE(the_fused_step_gives_the_oracles_bits) {
  for (Recipe recipe : {Recipe::fixed, Recipe::article, Recipe::article_rescaled}) {
    for (const NetworkOptions& opt :
         {NetworkOptions{}, NetworkOptions{.bias = true, .activation = Activation::tanh, .seed = 3},
          NetworkOptions{.bias = true,
          .activation = Activation::relu,
          .init = InitScale::fan_in,
          .seed = 4}}) {
      Network oracle(opt);
      Network fast(opt);
      FusedDeltasStep step;
      for (std::uint32_t k = 0; k < 30; ++k) {
        testing::Sample s = testing::synthetic_sample(500 + k);
        if (k == 7) s.x.fill(0.0);  // a black image: W0 must not move
        const ForwardValues a = deltas_sgd_step(oracle, s.x, s.y, recipe, 0.05);
        const Tensor& O3 = step.step(fast, s.x, s.y, recipe, 0.05);
        BOOST_TEST_CONTEXT(to_string(recipe) << ", " << opt.describe() << ", step " << k) {
          BOOST_TEST(testing::identical(O3, a.O3));
        }
      }
      BOOST_TEST_CONTEXT(to_string(recipe) << ", " << opt.describe()) {
        for (std::size_t p = 0; p < oracle.parameters().size(); ++p) {
          BOOST_TEST(testing::identical(fast.parameters()[p]->value, oracle.parameters()[p]->value),
                     oracle.parameters()[p]->name);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_fused_step_allocates_nothing_after_the_first) {
  Network net;
  FusedDeltasStep step;
  const testing::Sample first = testing::synthetic_sample(1);
  step.step(net, first.x, first.y, Recipe::article, 0.001);
  std::vector<testing::Sample> samples;
  for (std::uint32_t k = 0; k < 20; ++k) samples.push_back(testing::synthetic_sample(10 + k));
  const testing::AllocationCounter counter;
  for (const testing::Sample& s : samples) step.step(net, s.x, s.y, Recipe::article, 0.001);
  BOOST_TEST(counter.count() == 0);
  step.step(net, first.x, first.y, Recipe::article_rescaled, 0.001);  // sizes its one buffer
  const testing::AllocationCounter rescaled;
  for (const testing::Sample& s : samples)
    step.step(net, s.x, s.y, Recipe::article_rescaled, 0.001);
  BOOST_TEST(rescaled.count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
