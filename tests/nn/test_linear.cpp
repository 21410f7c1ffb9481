// Linear: numpy's initialisation, Z = W · O + b for one sample and for a minibatch, and its
// gradients through the public API a program of your own uses (backward, gradcheck, sgd_step).
#include <cmath>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/nn/linear.hpp>
#include "common/check.hpp"

using namespace stepgrad;

BOOST_AUTO_TEST_SUITE(linear)

// Reference values from /usr/bin/python3 (numpy 1.24):
//   r = np.random.RandomState(0); W = r.randn(3, 2) * np.sqrt(1 / 2); W2 = r.randn(1, 3) * ...
BOOST_AUTO_TEST_CASE(initialisation_equals_numpys_and_names_follow_the_index) {
  RandomState rng(0);
  Linear first(2, 3, rng, "0");
  Linear second(3, 1, rng, "1");
  BOOST_TEST(first.W.name == "W0");
  BOOST_TEST(first.b.name == "b0");
  BOOST_TEST(second.W.name == "W1");
  BOOST_TEST((first.W.value.shape() == Shape::matrix(3, 2)));
  BOOST_TEST((first.b.value == Tensor::zeros(3)));
  BOOST_TEST(first.W.value(0, 0) == 1.247373376201773);
  BOOST_TEST(first.W.value(0, 1) == 0.2829538755771419);
  BOOST_TEST(first.W.value(2, 1) == -0.6910398159642225);
  BOOST_TEST(second.W.value(0, 0) == 0.5485338036123445);
  BOOST_TEST(second.W.value(0, 2) == -0.059593431868454706);
  BOOST_TEST(first.parameters().size() == 2u);
  BOOST_TEST(first.parameters()[1] == &first.b);
}

BOOST_AUTO_TEST_CASE(a_minibatch_gives_each_columns_own_result) {
  RandomState rng(1);
  Linear layer(3, 2, rng);
  layer.b.value = Tensor::vector({0.5, -1.5});
  const Tensor X = Tensor::matrix({{1.0, -2.0}, {0.5, 0.0}, {3.0, 1.0}});  // two samples
  Tape tape;
  const Var Z = layer(tape.input(X));
  BOOST_TEST((Z.shape() == Shape::matrix(2, 2)));
  for (std::size_t c = 0; c < 2; ++c) {
    Tape one;
    const Var z = layer(one.input(Tensor::vector({X(0, c), X(1, c), X(2, c)})));
    BOOST_TEST((z.shape() == Shape::vector(2)));
    for (std::size_t r = 0; r < 2; ++r) {
      double want = layer.b.value[r];
      for (std::size_t k = 0; k < 3; ++k) want += layer.W.value(r, k) * X(k, c);
      BOOST_TEST(std::abs(z.value()[r] - want) <= 1e-15);
      BOOST_TEST(Z.value()(r, c) == z.value()[r]);
    }
  }
}

BOOST_AUTO_TEST_CASE(its_gradients_pass_gradcheck_and_one_sgd_step_lowers_the_loss) {
  RandomState rng(2);
  Linear l0(2, 4, rng, "0");
  Linear l1(4, 1, rng, "1");
  const Tensor X = Tensor::matrix({{0, 0, 1, 1}, {0, 1, 0, 1}});
  const Tensor Y = Tensor::matrix({{0, 1, 1, 0}});
  const auto loss = [&](Tape& t) {
    const Var O1 = tanh(l0(t.input(X)));
    return binary_cross_entropy(sigmoid(l1(O1)), t.input(Y));
  };
  Tape tape;
  const Var C = loss(tape);
  C.backward();
  const std::vector<Parameter*> params = tape.parameters();
  BOOST_TEST(params.size() == 4u);  // W0, b0, W1, b1 in order of first use
  BOOST_TEST(params[1] == &l0.b);
  BOOST_TEST(l0.b.grad()[0] != 0.0);
  for (const GradCheckReport& r : gradcheck(params, loss)) BOOST_TEST(r.passed, format_report(r));
  const double before = C.value().item();
  sgd_step(params, 0.1);
  for (Parameter* p : params) BOOST_TEST(!p->has_grad());
  Tape after;
  BOOST_TEST(loss(after).value().item() < before);
}

BOOST_AUTO_TEST_SUITE_END()
