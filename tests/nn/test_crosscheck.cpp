// The three-way gradient cross-check of the article's network: the tape's gradients of the
// categorical cross-entropy == the `fixed` hand-derived deltas (max rel <= 1e-12) == central
// finite differences (<= 1e-7, Note [Finite-difference resolution]), for every element of
// W0, W1 and W2, at initialisation and after training (R2 in docs/reliability.md, R3), for several
// seeds.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <numeric>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/nn/crosscheck.hpp>
#include "common/digits.hpp"

using namespace stepgrad;
namespace bdata = boost::unit_test::data;

namespace {

// A table for failure messages: one line per parameter, max |a-b| and max rel of each pair.
std::string format_cross_check(const CrossCheck& c) {
  std::string out = fmt::format("C = {:.6f}\n{:<6} {:>24} {:>40}\n", c.loss, "", "tape vs deltas",
                                "tape vs finite differences");
  out += fmt::format("{:<6} {:>11} {:>12} {:>11} {:>12} {:>15}\n", "", "max |a-b|", "max rel",
                     "max |a-b|", "max rel", "checked");
  for (const GradientAgreement& g : c.parameters) {
    const GradCheckReport& n = g.tape_vs_numeric;
    out +=
        fmt::format("{:<6} {:>11.2e} {:>12.2e} {:>11.2e} {:>12.2e} {:>8}/{:<6} {}\n", g.name,
                    g.tape_vs_deltas.max_abs, g.tape_vs_deltas.max_rel, n.cmp.max_abs,
                    n.cmp.max_rel, n.checked.size(), n.analytic.size(), n.passed ? "ok" : "FAILED");
  }
  out.pop_back();
  return out;
}

// Elements checked per parameter: every one, unless STEPGRAD_CROSSCHECK_ELEMENTS says fewer.
// The sanitizer build sets it (tests/meson.build): it hunts memory errors, which a sample of
// elements exercises as well as all of them, and it runs the forward pass ~20x slower.
std::size_t elements_to_check() {
  const char* env = std::getenv("STEPGRAD_CROSSCHECK_ELEMENTS");
  return env == nullptr ? 0 : std::strtoul(env, nullptr, 10);
}

// Moves the weights away from their initial values: `steps` SGD steps on synthetic digits.
void train(Network& net, std::uint32_t seed, int steps) {
  for (int k = 0; k < steps; ++k) {
    const testing::Sample s =
        testing::synthetic_sample(seed * 1000 + static_cast<std::uint32_t>(k));
    deltas_sgd_step(net, s.x, s.y, Recipe::fixed, 0.05);
  }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(crosscheck)

BOOST_DATA_TEST_CASE(tape_deltas_and_finite_differences_agree_on_every_weight,
                     bdata::make(std::vector<std::uint32_t>{1, 2, 3}) *
                         bdata::make(std::vector<int>{0, 200}),
                     seed, steps) {
  Network net(NetworkOptions{.seed = seed});
  train(net, seed, steps);
  const testing::Sample s = testing::synthetic_sample(seed + 7);
  const std::size_t elements = elements_to_check();
  const CrossCheck c = cross_check(net, s.x, s.y, elements);
  BOOST_TEST_MESSAGE("seed " << seed << ", after " << steps << " steps\n" << format_cross_check(c));
  BOOST_TEST(c.parameters.size() == 3u);
  for (const GradientAgreement& g : c.parameters) {
    const std::size_t all = g.tape_vs_numeric.analytic.size();
    BOOST_TEST(g.tape_vs_numeric.checked.size() ==
               (elements == 0 ? all : std::min(all, elements)));  // R3
    BOOST_TEST(g.tape_vs_deltas.max_rel <= 1e-12, g.name << " tape vs " << g.delta_name);
    BOOST_TEST(g.tape_vs_numeric.passed, format_report(g.tape_vs_numeric));
  }
}

BOOST_AUTO_TEST_CASE(options_keep_the_three_way_agreement) {
  for (const NetworkOptions& opt :
       {NetworkOptions{.bias = true}, NetworkOptions{.activation = Activation::tanh},
        NetworkOptions{.bias = true, .activation = Activation::relu, .init = InitScale::fan_in}}) {
    Network net(opt);
    train(net, 9, 50);
    for (double& v : net.b0.value.values()) v += 0.01;  // nonzero biases
    // Finite differences step across relu's kink when a pre-activation is within reach of 0 (the
    // derivative jumps there), so for relu take the first sample whose Z1, Z2 keep clear of 0 by
    // more than the stencil's widest move, 2h times the largest input to a weight (and a margin).
    auto clear_of_kinks = [&](const testing::Sample& s) {
      const ForwardValues a = forward_pass(net, s.x);
      double reach = 1.0;  // pixels are at most 1
      for (double v : a.O1.values()) reach = std::max(reach, std::abs(v));
      reach *= 2.0 * GradCheckOptions{}.h * 2.0;
      for (const Tensor* z : {&a.Z1, &a.Z2})
        for (double v : z->values())
          if (std::abs(v) < reach) return false;
      return true;
    };
    std::uint32_t pick = 19;
    while (opt.activation == Activation::relu && !clear_of_kinks(testing::synthetic_sample(pick)) &&
           pick < 1000)
      ++pick;
    const testing::Sample s = testing::synthetic_sample(pick);
    BOOST_TEST_REQUIRE((opt.activation != Activation::relu || clear_of_kinks(s)));
    const CrossCheck c =
        cross_check(net, s.x, s.y, elements_to_check() == 0 ? 3000 : elements_to_check());
    BOOST_TEST_CONTEXT(opt.describe()) {
      BOOST_TEST(c.parameters.size() == (opt.bias ? 6u : 3u));
      BOOST_TEST(c.passed(1e-12), format_cross_check(c));
    }
  }
}

// R2: whole-network directional derivatives, at initialisation and after training.
BOOST_AUTO_TEST_CASE(directional_derivatives_of_the_whole_network) {
  for (int steps : {0, 200}) {
    Network net;
    train(net, 4, steps);
    const testing::Sample s = testing::synthetic_sample(29);
    Tape tape;
    tape_gradients(tape, net, s.x, s.y);
    std::vector<Tensor*> xs{&net.W0.value, &net.W1.value, &net.W2.value};
    const std::vector<Tensor> grads{net.W0.grad(), net.W1.grad(), net.W2.grad()};
    RandomState rng(static_cast<std::uint32_t>(31 + steps));
    for (int k = 0; k < 5; ++k) {
      std::vector<Tensor> u;
      for (const Tensor* x : xs) {
        Tensor d(x->shape());
        for (double& v : d.values()) v = rng.randn();
        u.push_back(std::move(d));
      }
      const DirectionalReport r = check_direction(
          [&] { return cross_entropy(forward_pass(net, s.x).Z3, s.y); }, xs, grads, u);
      BOOST_TEST(r.rel_err <= 1e-7, "after " << steps << " steps, direction " << k << ": <grad, u> "
                                             << r.analytic << " vs " << r.numeric);
    }
  }
}

// The layer measurements of 10_train (layers.csv) and their one-number summaries.
BOOST_AUTO_TEST_CASE(mean_row_cosine_is_one_for_copies_and_zero_for_orthogonal_rows) {
  Tensor copies = Tensor::zeros(3, 4);  // 1, 2 and 0.5 times the same pattern
  for (std::size_t k = 0; k < 4; ++k) {
    const double v = static_cast<double>(k) - 1.5;
    copies(0, k) = v;
    copies(1, k) = 2.0 * v;
    copies(2, k) = 0.5 * v;
  }
  BOOST_TEST(mean_row_cosine(copies) == 1.0, boost::test_tools::tolerance(1e-15));
  Tensor orthogonal = Tensor::zeros(4, 4);
  for (std::size_t i = 0; i < 4; ++i) orthogonal(i, i) = static_cast<double>(i + 1);
  BOOST_TEST(mean_row_cosine(orthogonal) == 0.0);
  // Rows p, -p, p: pairs +1 (once) and -1 (twice); the zero row is left out.
  Tensor mixed = Tensor::zeros(4, 2);
  mixed(0, 0) = 1.0;
  mixed(1, 0) = -3.0;
  mixed(2, 0) = 2.0;
  BOOST_TEST(mean_row_cosine(mixed) == -1.0 / 3.0, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(mean_row_cosine(Tensor::zeros(5, 3)) == 0.0);
  BOOST_CHECK_THROW((void)mean_row_cosine(Tensor::zeros(4)), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(measure_layers_compares_each_recipe_with_the_true_gradient) {
  const Subset probe = testing::synthetic_digits(40, 8);
  std::vector<std::size_t> samples(probe.size());
  std::iota(samples.begin(), samples.end(), std::size_t{0});
  Tensor X;
  Tensor Y;
  probe.inputs(samples, X);
  probe.one_hots(samples, Y);
  Network net;
  const std::array<Tensor, 3> initial{net.W0.value, net.W1.value, net.W2.value};
  // The fixed recipe's step is the true gradient: same size, cosine 1; nothing moved yet.
  const LayerReport fixed = measure_layers(net, initial, X, Y, Recipe::fixed, 0);
  for (const LayerStats& l : fixed.layers) {
    BOOST_TEST(l.weight_change == 0.0);
    BOOST_TEST(l.step_norm > 0.0);
    BOOST_TEST(l.step_norm == l.true_norm, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(l.cosine == 1.0, boost::test_tools::tolerance(1e-12));
  }
  // The article's (erratum E1): W2's step is right, W1's and W0's are many times too small and
  // turned, and its delta2 sits on fewer of Z2's units than the true one.
  const LayerReport article = measure_layers(net, initial, X, Y, Recipe::article, 0);
  BOOST_TEST(article.layers[2].step_norm == fixed.layers[2].step_norm,
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(article.layers[2].cosine == 1.0, boost::test_tools::tolerance(1e-12));
  for (std::size_t l = 0; l < 2; ++l) {
    const LayerStats& a = article.layers[l];
    BOOST_TEST(a.true_norm == fixed.layers[l].true_norm, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(a.step_norm / a.true_norm < 0.2, "layer " << l);
    BOOST_TEST(a.cosine > 0.3, "layer " << l);
    BOOST_TEST(a.cosine < 0.95, "layer " << l);
  }
  BOOST_TEST(article.delta2_units >= 1.0);
  BOOST_TEST(article.delta2_units < fixed.delta2_units);
  BOOST_TEST(fixed.delta2_units <= 64.0);
  // How far a layer moved is the Frobenius norm of its change.
  net.W1.value(3, 4) += 3.0;
  net.W1.value(5, 6) -= 4.0;
  const LayerReport moved = measure_layers(net, initial, X, Y, Recipe::fixed, 1);
  BOOST_TEST(moved.epoch == 1u);
  BOOST_TEST(moved.layers[1].weight_change == 5.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(moved.layers[0].weight_change == 0.0);
  // The probe is one sample per column, X and Y alike.
  BOOST_CHECK_THROW((void)measure_layers(net, initial, X, Tensor::zeros(10, 39), Recipe::fixed, 1),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(layers_csv_has_one_column_per_layer_and_measure) {
  BOOST_TEST(layers_csv_header() ==
             "epoch,change_W0,change_W1,change_W2,step_W0,step_W1,step_W2,true_W0,true_W1,"
             "true_W2,cosine_W0,cosine_W1,cosine_W2,alike_W0,alike_W1,alike_W2,delta2_units");
  LayerReport r;
  r.epoch = 3;
  r.layers[0] = {1.0, 2.0, 4.0, 0.5, 0.25};
  r.delta2_units = 2.5;
  const std::string line = layers_csv_line(r);
  BOOST_TEST(line.starts_with("3,1.0000000000,0.0000000000,0.0000000000,2.0000000000,"));
  BOOST_TEST(line.ends_with(",0.2500000000,0.0000000000,0.0000000000,2.5000000000"));
  BOOST_TEST(std::count(line.begin(), line.end(), ',') == 16);
}

BOOST_AUTO_TEST_SUITE_END()
