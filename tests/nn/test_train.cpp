// The training loop: both engines follow the same trajectory, runs are reproducible (R19 in
// docs/reliability.md), minibatches average, steps stop allocating, evaluation counts right.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/nn/linear.hpp>
#include <stepgrad/nn/train.hpp>
#include "common/alloc_counter.hpp"
#include "common/check.hpp"
#include "common/digits.hpp"

using namespace stepgrad;

namespace {
struct Run {
  Network net;
  std::vector<EpochMetrics> epochs;
};

Run run_training(const TrainOptions& o, const Subset& train_set, const Subset& test_set) {
  Run r{Network(o.network), {}};
  Trainer t(r.net, o);
  for (std::size_t e = 1; e <= o.epochs; ++e)
    r.epochs.push_back(t.run_epoch(train_set, test_set, e));
  return r;
}

// The CSV line without its timing columns (R19 compares these bytes).
std::string untimed(const EpochMetrics& m) {
  const std::string line = metrics_csv_line(m);
  return line.substr(0, line.rfind(',', line.rfind(',') - 1));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(train)

BOOST_AUTO_TEST_CASE(fixed_recipe_follows_one_trajectory_on_both_engines) {
  const Subset data = testing::synthetic_digits(3000, 1);
  const Subset slice = data.first(2000);
  for (std::size_t batch : {1u, 16u}) {
    TrainOptions o;
    o.epochs = 1;
    o.lr = 0.05;
    o.batch = batch;
    o.engine = Engine::tape;
    const Run tape = run_training(o, slice, data.first(100));
    o.engine = Engine::deltas;
    const Run deltas = run_training(o, slice, data.first(100));
    for (std::size_t l = 0; l < 3; ++l) {
      const Tensor& a = tape.net.weight(l).value;
      const Tensor& b = deltas.net.weight(l).value;
      BOOST_TEST(compare(a, b).max_abs <= 1e-9, "batch "
                                                    << batch << "\n"
                                                    << format_comparison("tape", a, "deltas", b));
    }
    BOOST_TEST(tape.epochs[0].train_accuracy == deltas.epochs[0].train_accuracy);
    BOOST_TEST(std::abs(tape.epochs[0].train_cost - deltas.epochs[0].train_cost) < 1e-9);
  }
}

BOOST_AUTO_TEST_CASE(same_seed_same_numbers_bit_for_bit) {
  const Subset data = testing::synthetic_digits(600, 2);
  TrainOptions o;
  o.epochs = 2;
  o.lr = 0.05;
  o.shuffle = true;
  const Run a = run_training(o, data.first(500), data.first(100));
  const Run b = run_training(o, data.first(500), data.first(100));
  for (std::size_t e = 0; e < 2; ++e) BOOST_TEST(untimed(a.epochs[e]) == untimed(b.epochs[e]));
  for (std::size_t l = 0; l < 3; ++l)
    BOOST_TEST(testing::identical(a.net.weight(l).value, b.net.weight(l).value));
  o.network.seed = 43;
  const Run c = run_training(o, data.first(500), data.first(100));
  BOOST_TEST(untimed(a.epochs[1]) != untimed(c.epochs[1]));
}

BOOST_AUTO_TEST_CASE(shuffling_changes_the_order_not_the_reproducibility) {
  const Subset data = testing::synthetic_digits(400, 3);
  TrainOptions o;
  o.epochs = 1;
  o.lr = 0.05;
  const Run fixed_order = run_training(o, data, data.first(50));
  o.shuffle = true;
  const Run shuffled = run_training(o, data, data.first(50));
  BOOST_TEST(compare(fixed_order.net.W2.value, shuffled.net.W2.value).max_abs > 1e-6);
}

BOOST_AUTO_TEST_CASE(the_article_recipe_runs_the_hand_derived_deltas) {
  TrainOptions o;
  o.recipe = Recipe::article;
  o.engine = Engine::tape;
  BOOST_TEST(o.effective_engine() == Engine::deltas);
  BOOST_TEST(o.describe().find("recipe=article engine=deltas") == 0u);
  const Subset data = testing::synthetic_digits(300, 4);
  o.epochs = 1;
  const Run a = run_training(o, data, data.first(10));
  Network by_hand;
  for (std::size_t i = 0; i < data.size(); ++i) {
    Tensor x, y;
    data.input(i, x);
    data.one_hot(i, y);
    deltas_sgd_step(by_hand, x, y, Recipe::article, o.lr);
  }
  BOOST_TEST(testing::identical(a.net.W0.value, by_hand.W0.value));
}

BOOST_AUTO_TEST_CASE(a_per_sample_tape_step_allocates_nothing_after_the_first) {
  const Subset data = testing::synthetic_digits(50, 5);
  TrainOptions o;
  Network net;
  Trainer t(net, o);
  std::vector<std::size_t> order(50);
  for (std::size_t i = 0; i < 50; ++i) order[i] = i;
  double cost = 0.0;
  std::size_t correct = 0;
  t.step(data, order, 0, 1, cost, correct);
  const testing::AllocationCounter counter;
  for (std::size_t i = 1; i < 50; ++i) t.step(data, order, i, 1, cost, correct);
  BOOST_TEST(counter.count() == 0);
}

BOOST_AUTO_TEST_CASE(running_figures_count_every_sample_once) {
  const Subset data = testing::synthetic_digits(257, 6);  // 257 = 2 * 128 + 1: a short last batch
  TrainOptions o;
  o.epochs = 1;
  o.batch = 128;
  Network net;
  Trainer t(net, o);
  const EpochMetrics m = t.run_epoch(data, data.first(0), 1);
  const double correct = m.train_accuracy * 257.0;
  BOOST_TEST(std::abs(correct - std::round(correct)) < 1e-9);
  BOOST_TEST(m.train_cost > 0.0);
  BOOST_TEST(m.test_accuracy == 0.0);
}

BOOST_AUTO_TEST_CASE(evaluation_agrees_with_one_forward_pass_per_sample) {
  const Subset data = testing::synthetic_digits(700, 7);  // more than one evaluation chunk
  Network net;
  const Evaluation e = evaluate(net, data);
  BOOST_TEST(e.predicted.size() == 700u);
  double cost = 0.0;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    Tensor x, y;
    data.input(i, x);
    data.one_hot(i, y);
    const ForwardValues a = forward_pass(net, x);
    cost += article_cost(a.O3, y);
    correct += argmax(a.O3) == data.label(i);
    BOOST_TEST(e.predicted[i] == argmax(a.O3));
    BOOST_TEST(e.truth[i] == data.label(i));
    BOOST_TEST(e.confidence[i] == a.O3[argmax(a.O3)], boost::test_tools::tolerance(1e-12));
  }
  BOOST_TEST(e.cost == cost / 700.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(e.accuracy == static_cast<double>(correct) / 700.0);
}

BOOST_AUTO_TEST_CASE(evaluation_on_several_threads_gives_the_same_bits) {
  // 26 batches (the last of 77 images): with 8 threads they finish well out of order, and most
  // orders of adding their sums change the last bits, so a sum in the order of completion (or
  // one per thread) fails here on most runs. The sum in batch order is what makes it pass.
  const Subset data = testing::synthetic_digits(12877, 11);
  Network net;
  const Evaluation one = evaluate(net, data);
  for (const std::size_t threads : {2u, 3u, 8u}) {
    const Evaluation many = evaluate(net, data, threads);
    BOOST_TEST(std::bit_cast<std::uint64_t>(many.cost) == std::bit_cast<std::uint64_t>(one.cost),
               threads << " threads");
    BOOST_TEST(std::bit_cast<std::uint64_t>(many.cross_entropy) ==
               std::bit_cast<std::uint64_t>(one.cross_entropy));
    BOOST_TEST(many.accuracy == one.accuracy);
    BOOST_TEST(many.predicted == one.predicted, boost::test_tools::per_element());
    BOOST_TEST(many.confidence == one.confidence, boost::test_tools::per_element());
    BOOST_TEST(many.truth == one.truth, boost::test_tools::per_element());
  }
  // A training run with its test-set pass on two threads: the same metrics as on one.
  TrainOptions o;
  o.epochs = 1;
  const Subset train = data.first(300);
  Network a, b;
  const EpochMetrics ma = Trainer(a, o).run_epoch(train, data, 1);
  o.evaluation_threads = 2;
  const EpochMetrics mb = Trainer(b, o).run_epoch(train, data, 1);
  BOOST_TEST(std::bit_cast<std::uint64_t>(ma.test_cost) ==
             std::bit_cast<std::uint64_t>(mb.test_cost));
  BOOST_TEST(ma.test_accuracy == mb.test_accuracy);
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused) {
  Network net;
  TrainOptions o;
  o.batch = 0;
  BOOST_CHECK_THROW(Trainer(net, o), std::invalid_argument);
  o.batch = 1;
  o.lr = -1.0;
  BOOST_CHECK_THROW(Trainer(net, o), std::invalid_argument);
  o.lr = std::nan("");
  BOOST_CHECK_THROW(Trainer(net, o), std::invalid_argument);
  o.lr = 0.001;
  o.network.bias = true;
  BOOST_CHECK_THROW(Trainer(net, o), std::invalid_argument);  // net has no biases
  BOOST_TEST(parse_enum<Engine>("deltas", "engine") == Engine::deltas);
  BOOST_CHECK_THROW(parse_enum<Engine>("gpu", "engine"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(metrics_csv_has_the_promised_columns) {
  BOOST_TEST(metrics_csv_header() ==
             "epoch,train_cost,train_accuracy,test_cost,test_accuracy,seconds,samples_per_second");
  const EpochMetrics m{2, 0.5, 0.25, 0.125, 0.75, 1.5, 32000.0};
  BOOST_TEST(metrics_csv_line(m) ==
             "2,0.5000000000,0.2500000000,0.1250000000,0.7500000000,1.500,32000.0");
}

// issue 26 (R47): a diverging loss stops training in one line. The case: a 1-32-1 tanh
// network fitting a line by mean squared error at lr 0.1 grew its loss to NaN without a word.
BOOST_AUTO_TEST_CASE(a_diverging_loss_stops_training_in_one_line) {
  BOOST_CHECK_NO_THROW(require_finite_cost(3.8, 1, 0.1));
  for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    try {
      require_finite_cost(bad, 5, 0.1);
      BOOST_FAIL("require_finite_cost took " << bad);
    } catch (const std::runtime_error& e) {
      BOOST_TEST(std::string(e.what()) ==
                 fmt::format("the cost became {} at step 5; try a smaller learning rate than 0.1",
                             std::isnan(bad) ? "NaN" : "infinite"));
    }
  }
  RandomState rng(0);
  Linear layer0(1, 32, rng, "0"), layer1(32, 1, rng, "1");
  Tensor X = Tensor::zeros(1, 21), Y = Tensor::zeros(1, 21);
  for (std::size_t i = 0; i < 21; ++i) {
    X[i] = -5.0 + 0.5 * static_cast<double>(i);
    Y[i] = 20.0 * X[i];
  }
  Tape tape;
  std::string stopped;
  std::size_t step = 1;
  for (; step <= 5000 && stopped.empty(); ++step) {
    tape.clear();
    const Var C = mse_loss(layer1(tanh(layer0(tape.input(X, "O0")))), tape.input(Y, "Y"));
    try {
      require_finite_cost(C.value().item(), step, 0.1);
    } catch (const std::runtime_error& e) {
      stopped = e.what();
      break;
    }
    C.backward();
    sgd_step(tape.parameters(), 0.1);  // finite gradients until the cost itself overflows
  }
  BOOST_TEST_MESSAGE(stopped);
  BOOST_TEST(stopped.starts_with("the cost became "));
  BOOST_TEST(
      stopped.ends_with(fmt::format(" at step {}; try a smaller learning rate than 0.1", step)));
}

BOOST_AUTO_TEST_SUITE_END()
