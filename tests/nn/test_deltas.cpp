// The hand-derived equations against the tape: the `fixed` recipe agrees, the `article`
// recipe shows erratum E1, and errata E2 and E3 are demonstrated.
#include <cmath>
#include <stdexcept>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/deltas.hpp>
#include "common/check.hpp"
#include "common/digits.hpp"

using namespace stepgrad;

namespace {
// Tape-engine SGD: gradients of C, then W -= lr * grad for every parameter.
void tape_sgd_step(Tape& tape, Network& net, const Tensor& x, const Tensor& y, double lr) {
  tape_gradients(tape, net, x, y);
  for (Parameter* p : net.parameters()) p->sgd_step(lr);
}

// n synthetic samples, one per column, seeds first, first + 1, ...
struct Batch {
  Tensor X, Y;
};
Batch synthetic_batch(std::size_t n, std::uint32_t first) {
  Batch b{Tensor::zeros(784, n), Tensor::zeros(10, n)};
  for (std::size_t k = 0; k < n; ++k) {
    const testing::Sample s = testing::synthetic_sample(first + static_cast<std::uint32_t>(k));
    for (std::size_t i = 0; i < 784; ++i) b.X(i, k) = s.x[i];
    for (std::size_t i = 0; i < 10; ++i) b.Y(i, k) = s.y[i];
  }
  return b;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(deltas)

BOOST_AUTO_TEST_CASE(forward_pass_by_hand_equals_the_tapes) {
  Network net;
  const testing::Sample s = testing::synthetic_sample(11);
  Tape tape;
  const TapeForward f = record_forward(tape, net, s.x, s.y);
  const ForwardValues a = forward_pass(net, s.x);
  BOOST_TEST(testing::identical(a.Z1, f.Z1.value()));
  BOOST_TEST(testing::identical(a.O1, f.O1.value()));
  BOOST_TEST(testing::identical(a.Z2, f.Z2.value()));
  BOOST_TEST(testing::identical(a.O2, f.O2.value()));
  BOOST_TEST(testing::identical(a.Z3, f.Z3.value()));
  BOOST_TEST(testing::identical(a.O3, f.O3.value()));
  BOOST_TEST(cross_entropy(a.Z3, s.y) == f.C.value().item());
  BOOST_TEST(article_cost(a.O3, s.y) == f.cost.value().item());
}

BOOST_AUTO_TEST_CASE(forward_from_a_layer_continues_the_forward_pass) {
  Network net;
  const testing::Sample s = testing::synthetic_sample(12);
  const ForwardValues a = forward_pass(net, s.x);
  BOOST_TEST(testing::identical(forward_from(net, 1, a.Z1), a.Z3));
  BOOST_TEST(testing::identical(forward_from(net, 2, a.Z2), a.Z3));
  BOOST_TEST(testing::identical(forward_from(net, 3, a.Z3), a.Z3));
  BOOST_CHECK_THROW(forward_from(net, 0, a.Z1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(fixed_deltas_equal_the_tapes_gradients) {
  for (const NetworkOptions& opt :
       {NetworkOptions{}, NetworkOptions{.bias = true, .activation = Activation::tanh},
        NetworkOptions{.activation = Activation::relu, .init = InitScale::fan_in}}) {
    Network net(opt);
    const testing::Sample s = testing::synthetic_sample(12);
    Tape tape;
    const TapeForward f = tape_gradients(tape, net, s.x, s.y);
    const Deltas d = backward_pass(net, forward_pass(net, s.x), s.y, Recipe::fixed);
    BOOST_TEST_CONTEXT(opt.describe()) {
      BOOST_TEST(testing::identical(d.delta3, f.O3.value() - s.y));  // eq. (8)
      BOOST_TEST(testing::close(d.delta3, f.Z3.grad(), 1e-12, 0.0, "delta3", "grad_Z3"));
      BOOST_TEST(testing::close(d.delta2, f.Z2.grad(), 1e-12, 0.0, "delta2", "grad_Z2"));
      BOOST_TEST(testing::close(d.delta1, f.Z1.grad(), 1e-12, 0.0, "delta1", "grad_Z1"));
      BOOST_TEST(testing::close(d.Delta2, net.W2.grad(), 1e-12, 0.0, "Delta2", "grad_W2"));
      BOOST_TEST(testing::close(d.Delta1, net.W1.grad(), 1e-12, 0.0, "Delta1", "grad_W1"));
      BOOST_TEST(testing::close(d.Delta0, net.W0.grad(), 1e-12, 0.0, "Delta0", "grad_W0"));
      if (opt.bias)
        BOOST_TEST(testing::close(d.delta1, net.b0.grad(), 1e-12, 0.0, "delta1", "grad_b0"));
    }
  }
}

BOOST_AUTO_TEST_CASE(minibatch_deltas_are_the_mean_of_the_samples) {
  Network net(NetworkOptions{.bias = true});
  const auto [X, Y] = synthetic_batch(4, 40);
  Tape tape;
  tape_gradients(tape, net, X, Y);
  const Deltas d = backward_pass(net, forward_pass(net, X), Y, Recipe::fixed);
  // The engines average in different places (the tape scales the loss by 1/B, the deltas scale
  // the sum), so an element where the B samples cancel keeps only rounding: compare each
  // element at the scale of the whole matrix (floor = its largest element).
  for (const auto& [delta, grad, name] : {std::tuple{&d.Delta0, &net.W0, "0"},
                                          {&d.Delta1, &net.W1, "1"},
                                          {&d.Delta2, &net.W2, "2"}}) {
    const Tensor& g = grad->grad();
    const double scale = stats(g).max > -stats(g).min ? stats(g).max : -stats(g).min;
    BOOST_TEST(testing::close(*delta, g, 1e-12, scale, std::string("Delta") + name,
                              std::string("grad_W") + name));
  }
  Tensor mean_delta3 = Tensor::zeros(10);
  for (std::size_t i = 0; i < 10; ++i)
    for (std::size_t k = 0; k < 4; ++k) mean_delta3[i] += d.delta3(i, k) / 4.0;
  BOOST_TEST(testing::close(mean_delta3, net.b2.grad(), 1e-12, 0.0, "mean delta3", "grad_b2"));
}

BOOST_AUTO_TEST_CASE(every_delta_of_a_step_comes_from_the_weights_before_it) {
  Network net;
  const testing::Sample s = testing::synthetic_sample(13);
  const Network before = net;
  const Deltas d = backward_pass(before, forward_pass(before, s.x), s.y, Recipe::fixed);
  deltas_sgd_step(net, s.x, s.y, Recipe::fixed, 0.5);
  BOOST_TEST(testing::identical(net.W0.value, before.W0.value - 0.5 * d.Delta0));  // eq. (12)
  BOOST_TEST(testing::identical(net.W1.value, before.W1.value - 0.5 * d.Delta1));
  BOOST_TEST(testing::identical(net.W2.value, before.W2.value - 0.5 * d.Delta2));
}

BOOST_AUTO_TEST_CASE(both_engines_train_the_same_weights) {
  Network by_tape;
  Network by_deltas;
  Tape tape;
  for (std::uint32_t k = 0; k < 50; ++k) {
    const testing::Sample s = testing::synthetic_sample(100 + k);
    tape_sgd_step(tape, by_tape, s.x, s.y, 0.05);
    deltas_sgd_step(by_deltas, s.x, s.y, Recipe::fixed, 0.05);
  }
  // The engines sum in different orders (W^T g by rows vs by columns), so the weights drift
  // apart by rounding only: far below the 1e-9 per epoch that training promises.
  for (std::size_t l = 0; l < 3; ++l) {
    const Tensor& a = by_tape.weight(l).value;
    const Tensor& b = by_deltas.weight(l).value;
    BOOST_TEST(compare(a, b).max_abs <= 1e-14, format_comparison("tape", a, "deltas", b));
  }
  BOOST_TEST(compare(by_tape.W2.value, Network().W2.value).max_abs > 1e-3);  // and they did move
}

// E1: the article's eq. (9) multiplies by softmax's diagonal "derivative" of Z2 where
// sigmoid'(Z2) belongs. Delta2 is untouched; Delta1 and Delta0 shrink about 13-16x and turn.
BOOST_AUTO_TEST_CASE(erratum_e1_shrinks_and_turns_delta1_and_delta0) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    Network net(NetworkOptions{.seed = seed});
    const testing::Sample s = testing::synthetic_sample(seed + 50);
    const std::vector<DeltaDistortion> e1 = measure_erratum_e1(net, s.x, s.y);
    BOOST_TEST_MESSAGE("E1, seed " << seed << "\n" << format_erratum_e1(e1));
    BOOST_TEST(e1[0].name == "Delta2");
    BOOST_TEST(e1[0].cmp.max_abs == 0.0);  // eq. (9) comes after Delta2
    for (std::size_t k : {1u, 2u}) {
      BOOST_TEST(e1[k].norm_ratio > 1.0 / 20.0, e1[k].name);
      BOOST_TEST(e1[k].norm_ratio < 1.0 / 10.0, e1[k].name);
      BOOST_TEST(e1[k].cosine < 0.9, e1[k].name << ": not even proportional to the true gradient");
      BOOST_TEST(e1[k].cosine > 0.5, e1[k].name);
    }
  }
}

// E2: the article prints the binary cost (7), but delta3 = O3 - Y (8) is the gradient of the
// categorical cross-entropy. The tape tells the two apart.
BOOST_AUTO_TEST_CASE(erratum_e2_o3_minus_y_is_the_gradient_of_the_categorical_cost_only) {
  Network net;
  const testing::Sample s = testing::synthetic_sample(14);
  Tape tape;
  const TapeForward f = record_forward(tape, net, s.x, s.y);
  const Tensor o3_minus_y = f.O3.value() - s.y;
  tape.backward(f.C);
  BOOST_TEST(testing::close(f.Z3.grad(), o3_minus_y, 1e-12, 0.0, "dC/dZ3", "O3 - Y"));
  net.zero_grad();
  tape.backward(f.cost);
  const Comparison c = compare(f.Z3.grad(), o3_minus_y);
  BOOST_TEST(c.max_rel > 0.05,
             "d cost(7)/dZ3 should differ from O3 - Y\n"
                 << format_comparison("dcost/dZ3", f.Z3.grad(), "O3 - Y", o3_minus_y));
  // ... and the tape's gradient of (7) is right for (7): finite differences through softmax.
  Tensor z3 = f.Z3.value();
  const GradCheckReport r = check_gradient(
      "d cost(7)/dZ3", [&] { return article_cost(fn::softmax(z3), s.y); }, z3, f.Z3.grad());
  BOOST_TEST(r.passed, format_report(r));
}

// E3: softmax's "derivative" in the article is the diagonal of its Jacobian only.
BOOST_AUTO_TEST_CASE(erratum_e3_the_diagonal_is_not_the_softmax_jacobian) {
  RandomState rng(15);
  Tensor z(Shape::vector(64));
  Tensor g(Shape::vector(64));
  for (double& v : z.values()) v = 2.0 * rng.randn();
  for (double& v : g.values()) v = rng.randn();
  Tape tape;
  const Var zv = tape.variable(z, "z");
  tape.backward(softmax(zv), g);  // the full Jacobian-vector product J^T g
  const Tensor full = zv.grad();
  const Tensor diagonal = hadamard(article_softmax_derivative(z), g);
  const Comparison c = compare(diagonal, full);
  BOOST_TEST(c.max_rel > 0.1, format_comparison("diag ⊙ g", diagonal, "J^T g", full));
  const GradCheckReport r = check_gradient(
      "softmax JVP", [&] { return sum(hadamard(fn::softmax(z), g)); }, z, full);
  BOOST_TEST(r.passed, format_report(r));
  const GradCheckReport wrong = check_gradient(
      "diagonal", [&] { return sum(hadamard(fn::softmax(z), g)); }, z, diagonal);
  BOOST_TEST(!wrong.passed, format_report(wrong));
}

BOOST_AUTO_TEST_CASE(the_article_recipe_trains_differently) {
  Network fixed;
  Network article;
  for (std::uint32_t k = 0; k < 20; ++k) {
    const testing::Sample s = testing::synthetic_sample(200 + k);
    deltas_sgd_step(fixed, s.x, s.y, Recipe::fixed, 0.05);
    deltas_sgd_step(article, s.x, s.y, Recipe::article, 0.05);
  }
  BOOST_TEST(compare(fixed.W0.value, article.W0.value).max_abs > 1e-4);
}

// article_rescaled: delta2 points where the article's does and is as long as the true one, in
// every column of a minibatch; delta1 follows from it by eq. (10), and delta3 is untouched.
BOOST_AUTO_TEST_CASE(article_rescaled_has_the_articles_direction_and_the_true_size) {
  Network net(NetworkOptions{.seed = 5});
  // r (rescaled) has t's (true) length and w's (article) direction; E1 made w shorter.
  const auto check = [](const Tensor& r, const Tensor& w, const Tensor& t) {
    const auto dot = [](const Tensor& u, const Tensor& v) { return sum(hadamard(u, v)); };
    const auto norm = [&](const Tensor& u) { return std::sqrt(dot(u, u)); };
    BOOST_TEST(std::abs(norm(r) / norm(t) - 1.0) < 1e-12);
    BOOST_TEST(std::abs(dot(r, w) / (norm(r) * norm(w)) - 1.0) < 1e-12);
    BOOST_TEST(norm(w) / norm(t) < 0.5);  // the rescale is not a no-op
  };
  const auto [X, Y] = synthetic_batch(3, 70);
  const ForwardValues a = forward_pass(net, X);
  const Deltas article = delta_vectors(net, a, Y, Recipe::article);
  const Deltas truth = delta_vectors(net, a, Y, Recipe::fixed);
  const Deltas rescaled = delta_vectors(net, a, Y, Recipe::article_rescaled);
  BOOST_TEST(testing::identical(rescaled.delta3, truth.delta3));
  for (std::size_t k = 0; k < 3; ++k) {
    Tensor r = Tensor::zeros(64), w = Tensor::zeros(64), t = Tensor::zeros(64);
    for (std::size_t i = 0; i < 64; ++i) {
      r[i] = rescaled.delta2(i, k);
      w[i] = article.delta2(i, k);
      t[i] = truth.delta2(i, k);
    }
    BOOST_TEST_CONTEXT("column " << k) { check(r, w, t); }
  }
  const Tensor delta1 =
      hadamard(matmul(transpose(net.W1.value), rescaled.delta2),
               map(a.Z1, [](double z) { return activation_prime(Activation::sigmoid, z); }));
  BOOST_TEST(testing::close(rescaled.delta1, delta1, 1e-14, 0.0, "delta1", "eq. (10)"));
  // One sample, a vector: the same rule.
  const testing::Sample s = testing::synthetic_sample(70);
  const ForwardValues one = forward_pass(net, s.x);
  BOOST_TEST_CONTEXT("one sample") {
    check(delta_vectors(net, one, s.y, Recipe::article_rescaled).delta2,
          delta_vectors(net, one, s.y, Recipe::article).delta2,
          delta_vectors(net, one, s.y, Recipe::fixed).delta2);
  }
}

BOOST_AUTO_TEST_CASE(a_zero_delta2_is_left_zero_by_the_rescale) {
  const double zero[3] = {0.0, 0.0, 0.0};
  const double right[3] = {1.0, 2.0, 2.0};
  const double wrong[3] = {0.0, 0.0, 1.5};
  BOOST_TEST(rescale_factor(right, zero, 3) == 1.0);
  BOOST_TEST(rescale_factor(right, wrong, 3) == 2.0);
  BOOST_TEST(rescale_factor(right, wrong, 2, 1) == 1.0);  // only the first two: wrong is zero
}

BOOST_AUTO_TEST_CASE(recipes_parse_and_print) {
  BOOST_TEST(parse_enum<Recipe>("article", "recipe") == Recipe::article);
  BOOST_TEST(parse_enum<Recipe>("article-rescaled", "recipe") == Recipe::article_rescaled);
  BOOST_TEST(uses_article_eq9(Recipe::article_rescaled));
  BOOST_TEST(!uses_article_eq9(Recipe::fixed));
  BOOST_TEST(to_string(Recipe::fixed) == "fixed");
  BOOST_CHECK_THROW(parse_enum<Recipe>("numpy", "recipe"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
