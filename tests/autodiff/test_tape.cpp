// The tape: recording, labels, backward's accumulation and linearity (R4 in docs/reliability.md,
// R5), clearing without reallocating, stale handles, and the trace observer.
#include <cmath>
#include <limits>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/random.hpp>
#include "common/alloc_counter.hpp"
#include "common/check.hpp"

using namespace stepgrad;

namespace {
// A small two-layer graph like the article's, recorded on `t`: returns the loss.
Var record_net(Tape& t, Parameter& w0, Parameter& w1, const Tensor& x, const Tensor& y) {
  const Var o0 = t.input(x, "O0");
  const Var z1 = matmul(t.param(w0), o0).named("Z1");
  const Var o1 = sigmoid(z1).named("O1");
  const Var z2 = matmul(t.param(w1), o1).named("Z2");
  return cross_entropy_logits(z2, t.input(y, "Y")).named("C");
}
}  // namespace

BOOST_AUTO_TEST_SUITE(tape)

BOOST_AUTO_TEST_CASE(nodes_are_recorded_in_creation_order_with_readable_labels) {
  Tape t;
  Parameter w0("W0", Tensor::matrix({{1, 2}, {3, 4}, {5, 6}}));
  Parameter w1("W1", Tensor::matrix({{1, 0, -1}, {0, 1, 0}}));
  record_net(t, w0, w1, Tensor::vector({0.5, -0.5}), Tensor::vector({0, 1}));
  BOOST_TEST(t.size() == 8u);
  BOOST_TEST(t.label(0) == "O0 (input)");
  BOOST_TEST(t.label(1) == "W0 (param)");
  BOOST_TEST(t.label(2) == "Z1 = W0 · O0");
  BOOST_TEST(t.label(3) == "O1 = sigmoid(Z1)");
  BOOST_TEST(t.label(7) == "C = cross_entropy_logits(Z2, Y)");
  BOOST_TEST(t.parameters().size() == 2u);
  BOOST_TEST(t.parameters()[0] == &w0);
  BOOST_TEST(!t.node(0).requires_grad);
  BOOST_TEST(t.node(2).requires_grad);
}

BOOST_AUTO_TEST_CASE(grad_accumulates_when_a_node_is_used_twice) {
  Tape t;
  const Var x = t.variable(Tensor::vector({3, -2}), "x");
  const Var y = sum(x * x);  // d/dx sum(x^2) = 2x: both uses of x contribute
  t.backward(y);
  BOOST_TEST(testing::identical(x.grad(), Tensor::vector({6, -4})));

  Tape u;
  const Var a = u.variable(Tensor::vector({1, 2}), "a");
  u.backward(sum(a) + sum(a));  // two paths from the loss to a
  BOOST_TEST(testing::identical(a.grad(), Tensor::vector({2, 2})));
}

BOOST_AUTO_TEST_CASE(leaves_accumulate_across_backward_calls_until_zero_grad) {
  Tape t;
  const Var x = t.variable(Tensor::vector({1, 2}), "x");
  const Var y = sum(x * x);
  t.backward(y);
  t.backward_accumulating(y);  // a second sweep, asked for, adds to the leaves only
  BOOST_TEST(testing::identical(x.grad(), Tensor::vector({4, 8})));
  t.zero_grad();
  BOOST_TEST(testing::identical(x.grad(), Tensor::vector({0, 0})));
  t.backward(y);  // after zero_grad(): nothing to double, allowed
  BOOST_TEST(testing::identical(x.grad(), Tensor::vector({2, 4})));
}

// issue 26 (R46): backward() twice over one recording without zero_grad() silently doubled the
// gradients; it is refused in one line naming the fixes, the gradients untouched.
BOOST_AUTO_TEST_CASE(a_second_backward_without_zero_grad_is_refused_naming_the_fix) {
  Parameter w("W", Tensor::vector({1.0, -2.0}));
  Tape t;
  const Var loss = sum(t.param(w) * t.input(Tensor::vector({3.0, 4.0})));
  loss.backward();
  try {
    loss.backward();
    BOOST_FAIL("a second backward() doubled W's gradient without a word");
  } catch (const std::logic_error& e) {
    BOOST_TEST(std::string(e.what()) ==
               "backward: a second backward() on this tape would add to the gradient W still "
               "holds from the first (doubling it): call zero_grad() first, record again after "
               "clear(), or call backward_accumulating() to add on purpose");
  }
  BOOST_TEST(w.grad() == Tensor::vector({3.0, 4.0}));  // not doubled
  BOOST_CHECK_THROW(t.backward(loss, 2.0), std::logic_error);
  BOOST_CHECK_THROW(t.backward(loss, Tensor::scalar(1.0)), std::logic_error);
  w.zero_grad();  // a Parameter's zero_grad() (or sgd_step) is enough
  loss.backward();
  BOOST_TEST(w.grad() == Tensor::vector({3.0, 4.0}));

  // Accumulation across samples, the tested design: clear() and record the next sample.
  t.clear();
  sum(t.param(w) * t.input(Tensor::vector({1.0, 1.0}))).backward();
  BOOST_TEST(w.grad() == Tensor::vector({4.0, 5.0}));
  // ... or two losses recorded on one tape, each swept once, on purpose.
  Tape u;
  Parameter v("v", Tensor::vector({2.0}));
  const Var pv = u.param(v);
  u.backward(sum(pv));
  u.backward_accumulating(sum(scale(pv, 3.0)));
  BOOST_TEST(v.grad() == Tensor::vector({4.0}));
  BOOST_CHECK_THROW(u.backward_accumulating(u.variable(Tensor::vector({1, 2}))), ShapeError);
}

BOOST_AUTO_TEST_CASE(backward_is_repeatable_and_linear_in_its_seed) {
  Parameter w0("W0", Tensor::matrix({{0.1, -0.2}, {0.3, 0.4}, {-0.5, 0.6}}));
  Parameter w1("W1", Tensor::matrix({{0.7, -0.8, 0.9}, {-1.0, 1.1, -1.2}}));
  const Tensor x = Tensor::vector({0.25, 0.75});
  const Tensor y = Tensor::vector({0, 1});
  auto grads = [&](double seed) {
    Tape t;
    w0.zero_grad();
    w1.zero_grad();
    t.backward(record_net(t, w0, w1, x, y), seed);
    return std::make_pair(w0.grad(), w1.grad());
  };
  const auto once = grads(1.0);
  const auto again = grads(1.0);
  BOOST_TEST(testing::identical(once.first, again.first));  // R4: bit-identical
  BOOST_TEST(testing::identical(once.second, again.second));
  const auto zero = grads(0.0);
  BOOST_TEST(testing::identical(zero.first, Tensor::zeros(3, 2)));
  BOOST_TEST(testing::identical(zero.second, Tensor::zeros(2, 3)));
  const auto twice = grads(2.0);
  BOOST_TEST(testing::identical(twice.first, 2.0 * once.first));  // exactly double
  BOOST_TEST(testing::identical(twice.second, 2.0 * once.second));
}

BOOST_AUTO_TEST_CASE(a_reused_tape_stops_allocating_after_the_first_step) {
  Parameter w0("W0", Tensor::matrix({{0.1, -0.2}, {0.3, 0.4}, {-0.5, 0.6}}));
  Parameter w1("W1", Tensor::matrix({{0.7, -0.8, 0.9}, {-1.0, 1.1, -1.2}}));
  const Tensor x = Tensor::vector({0.25, 0.75});
  const Tensor y = Tensor::vector({0, 1});
  Tape t;
  auto step = [&] {
    t.clear();
    t.backward(record_net(t, w0, w1, x, y));
    w0.sgd_step(0.1);
    w1.sgd_step(0.1);
  };
  step();
  const testing::AllocationCounter counter;
  for (int i = 0; i < 10; ++i) step();
  BOOST_TEST(counter.count() == 0);
}

BOOST_AUTO_TEST_CASE(a_var_from_a_cleared_tape_is_refused) {
  Tape t;
  const Var x = t.variable(Tensor::vector({1}), "x");
  t.clear();
  BOOST_CHECK_THROW((void)x.value(), std::logic_error);
  BOOST_CHECK_THROW((void)Var().value(), std::logic_error);
  Tape other;
  const Var a = t.variable(Tensor::vector({1}));
  const Var b = other.variable(Tensor::vector({1}));
  BOOST_CHECK_THROW(add(a, b), std::logic_error);
}

BOOST_AUTO_TEST_CASE(backward_needs_a_scalar_loss_or_a_matching_seed) {
  Tape t;
  const Var x = t.variable(Tensor::vector({1, 2}), "x");
  const Var y = scale(x, 3.0);
  BOOST_CHECK_THROW(t.backward(y), ShapeError);
  BOOST_CHECK_THROW(t.backward(y, Tensor::vector({1, 2, 3})), ShapeError);
  t.backward(y, Tensor::vector({1, -1}));  // a vector-Jacobian product
  BOOST_TEST(testing::identical(x.grad(), Tensor::vector({3, -3})));
}

BOOST_AUTO_TEST_CASE(no_gradient_reaches_inputs_or_unused_nodes) {
  Tape t;
  const Var x = t.input(Tensor::vector({1, 2}), "x");
  const Var w = t.variable(Tensor::vector({3, 4}), "w");
  const Var unused = t.variable(Tensor::vector({5, 6}), "unused");
  t.backward(dot(x, w));
  BOOST_TEST(testing::identical(w.grad(), Tensor::vector({1, 2})));
  BOOST_TEST(t.node(x.index()).gradient().empty());
  BOOST_TEST(testing::identical(unused.grad(), Tensor::vector({0, 0})));
}

BOOST_AUTO_TEST_CASE(the_observer_sees_every_node_forward_and_backward) {
  Tape t;
  std::vector<std::string> seen;
  t.set_observer([&](Tape& tape, std::size_t i, Sweep s) {
    seen.push_back(fmt::format("{} {}", s == Sweep::Forward ? "fwd" : "bwd", tape.node(i).name));
  });
  const Var x = t.variable(Tensor::vector({1, 2}), "x");
  const Var y = sigmoid(x).named("y");
  t.backward(sum(y).named("L"));
  // Each node is shown once complete, with the name Var::named gave it.
  const std::vector<std::string> want{"fwd x", "fwd y", "fwd L", "bwd L", "bwd y", "bwd x"};
  BOOST_TEST(seen == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sgd_step_moves_against_the_gradient_and_zeroes_it) {
  Parameter w("w", Tensor::vector({1, 2}));
  Tape t;
  t.backward(dot(t.param(w), t.input(Tensor::vector({10, -10}))));
  w.sgd_step(0.5);
  BOOST_TEST(testing::identical(w.value, Tensor::vector({-4, 7})));
  BOOST_TEST(!w.has_grad());
  BOOST_TEST(testing::identical(w.grad(), Tensor::vector({0, 0})));
}

BOOST_AUTO_TEST_CASE(
    a_one_sample_weight_gradient_is_kept_as_an_outer_product_with_the_same_numbers) {
  // Note [Outer-product gradients]: W · x with x zero but for two of its 24 columns.
  RandomState rng(3);
  const Tensor w = rng.randn(2, 24);
  Tensor x = Tensor::zeros(24);
  x[10] = 0.5;
  x[12] = -2.0;
  const Tensor g = Tensor::vector({3, -1});
  Parameter p("W", w);
  Tape t;
  t.backward(dot(matmul(t.param(p), t.input(x)), t.input(g)));
  BOOST_TEST(p.gradient().is_outer());
  BOOST_TEST(testing::identical(p.grad(), outer(g, x)));  // zeros where x is zero
  BOOST_TEST(!p.gradient().is_outer());                   // reading it wrote it out

  // sgd_step from the factors moves exactly what the written-out gradient moves
  Parameter dense("W", w);
  p.zero_grad();
  t.clear();
  t.backward(dot(matmul(t.param(p), t.input(x)), t.input(g)));
  BOOST_TEST(p.gradient().is_outer());
  dense.gradient().for_accumulation(w.shape()).tensor = outer(g, x);
  p.sgd_step(0.25);
  dense.sgd_step(0.25);
  BOOST_TEST(testing::identical(p.value, dense.value));
  BOOST_TEST(!p.has_grad());

  // a dense input, the same numbers
  const Tensor x_dense = rng.randn(24, 1);
  Parameter r("W", w);
  t.clear();
  t.backward(dot(matmul(t.param(r), t.input(Tensor::vector(x_dense.values()))), t.input(g)));
  BOOST_TEST(r.gradient().is_outer());
  BOOST_TEST(testing::identical(r.grad(), outer(g, Tensor::vector(x_dense.values()))));

  // the factors are copies: clearing the tape and recording another input leaves them alone
  Parameter kept("W", w);
  t.clear();
  t.backward(dot(matmul(t.param(kept), t.input(x)), t.input(g)));
  BOOST_TEST(kept.gradient().is_outer());
  t.clear();
  // the same nodes, reused, now hold other values
  t.backward(dot(matmul(t.input(w), t.input(Tensor::vector(x_dense.values()))), t.input(g)));
  BOOST_TEST(testing::identical(kept.grad(), outer(g, x)));

  // a second contribution on top of an outer-product one adds up correctly
  Parameter q("W", w);
  Tape u;
  const Var wq = u.param(q);
  Tensor x2 = Tensor::zeros(24);
  x2[1] = 1.0;
  const Var l = dot(matmul(wq, u.input(x)), u.input(Tensor::vector({1, 1}))) +
                dot(matmul(wq, u.input(x2)), u.input(Tensor::vector({2, 2})));
  u.backward(l);
  BOOST_TEST(testing::identical(
      q.grad(), outer(Tensor::vector({1, 1}), x) + outer(Tensor::vector({2, 2}), x2)));
}

BOOST_AUTO_TEST_CASE(var_backward_zero_grad_and_sgd_step_read_as_pytorchs) {
  Parameter w("w", Tensor::vector({1.0, -2.0}));
  Parameter frozen("frozen", Tensor::vector({3.0, 0.5}));
  frozen.requires_grad = false;  // PyTorch's requires_grad_(False)
  Tape t;
  const Var pw = t.param(w), pf = t.param(frozen);
  const Var loss = sum(pw * pf);
  BOOST_TEST(pw.requires_grad());
  BOOST_TEST(!pf.requires_grad());
  BOOST_TEST(!t.input(Tensor::vector({1.0})).requires_grad());
  loss.backward();  // the same as t.backward(loss)
  BOOST_TEST(w.grad() == frozen.value);
  BOOST_TEST(!frozen.has_grad());
  const std::vector<Parameter*> params = t.parameters();
  BOOST_TEST(params.size() == 2u);
  sgd_step(params, 0.5);  // w -= 0.5 · frozen; frozen has no gradient and stays
  BOOST_TEST(w.value == Tensor::vector({1.0 - 0.5 * 3.0, -2.0 - 0.5 * 0.5}));
  BOOST_TEST(frozen.value == Tensor::vector({3.0, 0.5}));
  BOOST_TEST(!w.has_grad());
  t.clear();
  sum(t.param(w)).backward();
  BOOST_TEST(w.has_grad());
  zero_grad({&w, &frozen});
  BOOST_TEST(!w.has_grad());
}

// issue 26: a diverged loss stops sgd_step in one line naming the parameter, weights untouched
BOOST_AUTO_TEST_CASE(sgd_step_refuses_a_nan_or_inf_gradient_before_any_weight_moves) {
  for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    Parameter a("a", Tensor::vector({1.0, 2.0}));
    Parameter b("b", Tensor::vector({3.0}));
    Tape t;
    const Var pa = t.param(a), pb = t.param(b);
    (sum(pa * t.input(Tensor::vector({1.0, bad}))) + sum(pb)).backward();  // b's is finite
    try {
      sgd_step({&b, &a}, 0.1);
      BOOST_FAIL("sgd_step took a gradient holding " << bad);
    } catch (const std::runtime_error& e) {
      BOOST_TEST(std::string(e.what()) ==
                 "sgd_step: the gradient of a holds NaN or Inf: the loss diverged; try a smaller "
                 "learning rate");
    }
    BOOST_TEST(a.value == Tensor::vector({1.0, 2.0}));
    BOOST_TEST(b.value == Tensor::vector({3.0}));  // listed first, not moved either
  }
}

BOOST_AUTO_TEST_SUITE_END()
