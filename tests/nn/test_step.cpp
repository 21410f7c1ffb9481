// TrainingStep (nn/step.hpp), the one SGD step of Trainer and of the explorer: the tape and the
// hand-derived deltas take the same step; each engine is its oracle's bits; the article's recipe
// refuses the tape; biases move only when the network has them; count_correct's argmax.
#include <boost/test/unit_test.hpp>

#include <stepgrad/nn/step.hpp>
#include "common/alloc_counter.hpp"
#include "common/check.hpp"
#include "common/digits.hpp"

using namespace stepgrad;

namespace {

// Samples seed, seed + 1, ... as the columns of X (784, n) and Y (10, n).
std::pair<Tensor, Tensor> batch(std::uint32_t seed, std::size_t n) {
  Tensor X = Tensor::zeros(kImagePixels, n);
  Tensor Y = Tensor::zeros(kNumClasses, n);
  for (std::size_t k = 0; k < n; ++k) {
    const testing::Sample s = testing::synthetic_sample(seed + static_cast<std::uint32_t>(k));
    for (std::size_t r = 0; r < kImagePixels; ++r) X(r, k) = s.x[r];
    for (std::size_t r = 0; r < kNumClasses; ++r) Y(r, k) = s.y[r];
  }
  return {X, Y};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(step)

BOOST_AUTO_TEST_CASE(the_tape_and_the_deltas_take_the_same_step) {
  for (const NetworkOptions& opt :
       {NetworkOptions{},
        NetworkOptions{.bias = true, .activation = Activation::tanh, .seed = 5}}) {
    for (std::size_t n : {std::size_t{1}, std::size_t{6}}) {
      Network by_tape(opt);
      Network by_deltas(opt);
      TrainingStep tape;
      TrainingStep deltas;
      double cost_tape = 0.0;
      double cost_deltas = 0.0;
      for (std::uint32_t k = 0; k < 10; ++k) {
        const testing::Sample s = testing::synthetic_sample(40 + k);
        const auto [X, Y] = n == 1 ? std::pair{s.x, s.y} : batch(40 + 10 * k, n);
        const StepResult a = tape.step(by_tape, X, Y, Engine::tape, Recipe::fixed, 0.05);
        const StepResult b = deltas.step(by_deltas, X, Y, Engine::deltas, Recipe::fixed, 0.05);
        BOOST_TEST(a.correct == b.correct);
        BOOST_TEST(a.correct <= n);
        cost_tape += a.cost_sum;
        cost_deltas += b.cost_sum;
      }
      BOOST_TEST_CONTEXT(opt.describe() << ", " << n << " samples a step") {
        BOOST_TEST(cost_tape == cost_deltas, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(cost_tape > 0.0);
        for (std::size_t p = 0; p < by_tape.parameters().size(); ++p) {
          BOOST_TEST(testing::close(by_tape.parameters()[p]->value,
                                    by_deltas.parameters()[p]->value, 1e-10),
                     by_tape.parameters()[p]->name);
        }
        BOOST_TEST(!testing::close(by_tape.W0.value, Network(opt).W0.value, 1e-6));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(
    the_deltas_engine_is_the_fused_step_for_a_sample_and_deltas_sgd_step_for_a_batch) {
  for (Recipe recipe : {Recipe::fixed, Recipe::article}) {
    Network by_step;
    Network oracle;
    TrainingStep step;
    FusedDeltasStep fused;
    for (std::uint32_t k = 0; k < 6; ++k) {
      const testing::Sample s = testing::synthetic_sample(70 + k);
      const StepResult r = step.step(by_step, s.x, s.y, Engine::deltas, recipe, 0.05);
      const Tensor& O3 = fused.step(oracle, s.x, s.y, recipe, 0.05);
      BOOST_TEST(r.cost_sum == article_cost(O3, s.y));  // the same bits
      BOOST_TEST(r.correct == count_correct(O3, s.y));
      const auto [X, Y] = batch(90 + 5 * k, 5);
      const StepResult rb = step.step(by_step, X, Y, Engine::deltas, recipe, 0.05);
      const ForwardValues a = deltas_sgd_step(oracle, X, Y, recipe, 0.05);
      BOOST_TEST(rb.cost_sum == article_cost(a.O3, Y) * 5.0);
      BOOST_TEST(rb.correct == count_correct(a.O3, Y));
    }
    BOOST_TEST_CONTEXT(to_string(recipe)) {
      for (std::size_t p = 0; p < oracle.parameters().size(); ++p) {
        BOOST_TEST(
            testing::identical(by_step.parameters()[p]->value, oracle.parameters()[p]->value));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_column_major_w0_takes_the_same_steps_bit_for_bit) {
  // Note [W0 column by column]: each engine, each recipe it runs, with and without biases.
  struct Case {
    Engine engine;
    Recipe recipe;
    NetworkOptions opt;
  };
  for (const Case& c :
       {Case{Engine::tape, Recipe::fixed, {}}, Case{Engine::deltas, Recipe::fixed, {}},
        Case{Engine::deltas, Recipe::article, {}},
        Case{Engine::deltas, Recipe::article_rescaled, {}},
        Case{Engine::tape, Recipe::fixed, {.bias = true, .activation = Activation::tanh}},
        Case{Engine::deltas, Recipe::fixed, {.bias = true, .activation = Activation::relu}}}) {
    BOOST_TEST_CONTEXT(to_string(c.engine)
                       << " " << to_string(c.recipe) << " " << c.opt.describe()) {
      Network row(c.opt);
      Network col(c.opt);
      TrainingStep by_row;
      TrainingStep by_col;
      {
        const ColumnMajorW0 layout(col, true);
        BOOST_TEST((col.W0.value.layout() == Layout::column_major));
        for (std::uint32_t k = 0; k < 8; ++k) {
          const testing::Sample s = testing::synthetic_sample(200 + k);
          const StepResult a = by_row.step(row, s.x, s.y, c.engine, c.recipe, 0.05);
          const StepResult b = by_col.step(col, s.x, s.y, c.engine, c.recipe, 0.05);
          BOOST_TEST(a.cost_sum == b.cost_sum);  // the same bits
          BOOST_TEST(a.correct == b.correct);
        }
      }
      BOOST_TEST((col.W0.value.layout() == Layout::row_major));
      for (std::size_t p = 0; p < row.parameters().size(); ++p) {
        BOOST_TEST(testing::identical(col.parameters()[p]->value, row.parameters()[p]->value),
                   row.parameters()[p]->name);
      }
      BOOST_TEST(!testing::close(row.W0.value, Network(c.opt).W0.value, 1e-6));
    }
  }
}

BOOST_AUTO_TEST_CASE(w0_is_row_major_again_when_a_step_throws_or_for_a_minibatch) {
  Network net;
  const Tensor before = net.W0.value;
  TrainingStep step;
  const testing::Sample s = testing::synthetic_sample(3);
  try {
    const ColumnMajorW0 layout(net, true);
    step.step(net, s.x, s.y, Engine::tape, Recipe::article, 0.05);  // throws: no tape engine
    BOOST_FAIL("the article recipe ran on the tape");
  } catch (const std::invalid_argument&) {
  }
  BOOST_TEST((net.W0.value.layout() == Layout::row_major));
  BOOST_TEST(testing::identical(net.W0.value, before));
  const ColumnMajorW0 minibatch(net, false);
  BOOST_TEST((net.W0.value.layout() == Layout::row_major));
}

BOOST_AUTO_TEST_CASE(the_article_recipe_has_no_tape_engine) {
  Network net;
  const Network before;
  TrainingStep step;
  const testing::Sample s = testing::synthetic_sample(1);
  BOOST_CHECK_THROW(step.step(net, s.x, s.y, Engine::tape, Recipe::article, 0.05),
                    std::invalid_argument);
  BOOST_CHECK_THROW(step.step(net, s.x, s.y, Engine::tape, Recipe::article_rescaled, 0.05),
                    std::invalid_argument);
  BOOST_TEST(testing::identical(net.W0.value, before.W0.value));
}

BOOST_AUTO_TEST_CASE(biases_move_only_when_the_network_has_them) {
  for (bool bias : {false, true}) {
    const NetworkOptions opt{.bias = bias};
    Network net(opt);
    Network before(opt);
    const Tensor before_biases[3] = {before.b0.value, before.b1.value, before.b2.value};
    TrainingStep step;
    const testing::Sample s = testing::synthetic_sample(2);
    step.step(net, s.x, s.y, Engine::tape, Recipe::fixed, 0.05);
    BOOST_TEST_CONTEXT("bias=" << bias) {
      for (std::size_t l = 0; l < 3; ++l) {
        BOOST_TEST(!testing::identical(net.weight(l).value, before.weight(l).value));
        const bool moved = !testing::identical(net.bias(l).value, before_biases[l]);
        BOOST_TEST(moved == bias);
        BOOST_TEST(!net.weight(l).has_grad());  // sgd_step clears what it used
        BOOST_TEST(!net.bias(l).has_grad());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_step_allocates_nothing_after_the_first_on_either_engine) {
  for (Engine engine : {Engine::tape, Engine::deltas}) {
    Network net;
    TrainingStep step;
    const testing::Sample first = testing::synthetic_sample(1);
    step.step(net, first.x, first.y, engine, Recipe::fixed, 0.001);
    std::vector<testing::Sample> samples;
    for (std::uint32_t k = 0; k < 10; ++k) samples.push_back(testing::synthetic_sample(10 + k));
    const testing::AllocationCounter counter;
    for (const testing::Sample& s : samples) step.step(net, s.x, s.y, engine, Recipe::fixed, 0.001);
    BOOST_TEST(counter.count() == 0, to_string(engine));
  }
}

BOOST_AUTO_TEST_CASE(count_correct_takes_the_first_largest_value) {
  Tensor O3 = Tensor::zeros(kNumClasses, 3);
  Tensor Y = Tensor::zeros(kNumClasses, 3);
  O3(4, 0) = 0.9;  // right
  Y(4, 0) = 1.0;
  O3(2, 1) = 0.5;  // a tie between 2 and 7: argmax takes 2, the label is 7
  O3(7, 1) = 0.5;
  Y(7, 1) = 1.0;
  O3(3, 2) = 0.5;  // the same tie, labelled 3: right
  O3(8, 2) = 0.5;
  Y(3, 2) = 1.0;
  BOOST_TEST(count_correct(O3, Y) == 2u);
  const testing::Sample s = testing::synthetic_sample(3);
  Tensor o = Tensor::zeros(kNumClasses);
  for (std::size_t i = 0; i < kNumClasses; ++i) o[i] = s.y[i] > 0.5 ? 0.3 : 0.1;
  BOOST_TEST(count_correct(o, s.y) == 1u);
  o[(s.y[0] > 0.5) ? 1 : 0] = 0.4;
  BOOST_TEST(count_correct(o, s.y) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
