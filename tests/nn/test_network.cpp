// The article's network: initialisation equal to numpy's bit for bit, the forward pass on the
// tape with every value named, and the options.
#include <cmath>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/network.hpp>
#include "common/check.hpp"
#include "common/digits.hpp"

using namespace stepgrad;

BOOST_AUTO_TEST_SUITE(network)

// Reference values from /usr/bin/python3 (numpy 1.24), the article's nn_init:
//   np.random.seed(s); w0 = np.random.randn(128, 784) * np.sqrt(1. / 128); w1 = ... (64, 128);
//   w2 = ... (10, 64)
BOOST_AUTO_TEST_CASE(initialisation_equals_numpys_for_the_same_seed) {
  const Network n42(NetworkOptions{.seed = 42});
  BOOST_TEST(n42.W0.value(0, 0) == 0.043903743238196874);
  BOOST_TEST(n42.W0.value(0, 1) == -0.012220953119270473);
  BOOST_TEST(n42.W0.value(127, 783) == 0.12273518156201595);
  BOOST_TEST(n42.W1.value(0, 0) == -0.010029433603457876);
  BOOST_TEST(n42.W1.value(63, 127) == -0.26644550157215174);
  BOOST_TEST(n42.W2.value(0, 0) == 0.18785777970997555);
  BOOST_TEST(n42.W2.value(9, 63) == -0.1577721151367554);
  const Network n0(NetworkOptions{.seed = 0});
  BOOST_TEST(n0.W0.value(0, 0) == 0.1559216720252216);
  BOOST_TEST(n0.W1.value(63, 127) == -0.23742876423201187);
  BOOST_TEST(n0.W2.value(9, 63) == -0.3308126888762909);
  // fan-in scales by sqrt(1 / in) instead (erratum E4)
  const Network fan_in(NetworkOptions{.init = InitScale::fan_in, .seed = 42});
  BOOST_TEST(fan_in.W0.value(0, 0) == 0.017739791178972595);
  BOOST_TEST(fan_in.W2.value(9, 63) == -0.062364904386809375);
}

BOOST_AUTO_TEST_CASE(weights_have_the_articles_shapes_and_scale) {
  Network net;
  BOOST_TEST(to_string(net.W0.value.shape()) == "(128, 784)");
  BOOST_TEST(to_string(net.W1.value.shape()) == "(64, 128)");
  BOOST_TEST(to_string(net.W2.value.shape()) == "(10, 64)");
  BOOST_TEST(net.W0.value.size() + net.W1.value.size() + net.W2.value.size() == 109184u);
  BOOST_TEST(net.parameters().size() == 3u);
  // numpy's w.std() for seed 42: 0.0884640315286028, 0.12464375038283954, 0.3083260276312081
  const double want[] = {0.0884640315286028, 0.12464375038283954, 0.3083260276312081};
  for (std::size_t l = 0; l < 3; ++l) {
    const Tensor& w = net.weight(l).value;
    const double mean = sum(w) / static_cast<double>(w.size());
    double sq = 0.0;
    for (double v : w.values()) sq += (v - mean) * (v - mean);
    BOOST_TEST(std::sqrt(sq / static_cast<double>(w.size())) == want[l],
               boost::test_tools::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(the_forward_pass_names_every_value_like_the_article) {
  Network net;
  const testing::Sample s = testing::synthetic_sample(5);
  Tape tape;
  const TapeForward f = record_forward(tape, net, s.x, s.y);
  BOOST_TEST(tape.label(f.Z1.index()) == "Z1 = W0 · O0");
  BOOST_TEST(tape.label(f.O1.index()) == "O1 = sigmoid(Z1)");
  BOOST_TEST(tape.label(f.Z3.index()) == "Z3 = W2 · O2");
  BOOST_TEST(tape.label(f.O3.index()) == "O3 = softmax(Z3)");
  BOOST_TEST(tape.label(f.C.index()) == "C = cross_entropy_logits(Z3, Y)");
  BOOST_TEST(tape.label(f.cost.index()) == "cost = binary_cross_entropy(O3, Y)");
  BOOST_TEST(to_string(f.Z2.shape()) == "(64,)");
  BOOST_TEST(sum(f.O3.value()) == 1.0, boost::test_tools::tolerance(1e-15));
  const std::size_t label = argmax(s.y);
  BOOST_TEST(f.C.value().item() == -std::log(f.O3.value()[label]),
             boost::test_tools::tolerance(1e-13));
  double cost = 0.0;  // eq. (7) by hand
  for (std::size_t i = 0; i < 10; ++i) {
    const double o = f.O3.value()[i];
    cost -= s.y[i] * std::log(o) + (1.0 - s.y[i]) * std::log(1.0 - o);
  }
  BOOST_TEST(f.cost.value().item() == cost, boost::test_tools::tolerance(1e-13));
}

BOOST_AUTO_TEST_CASE(a_minibatch_is_its_samples_side_by_side) {
  Network net(NetworkOptions{.bias = true});
  for (double& v : net.b0.value.values()) v = 0.01;  // make the biases matter
  Tensor X = Tensor::zeros(784, 3);
  Tensor Y = Tensor::zeros(10, 3);
  std::vector<testing::Sample> samples;
  for (std::size_t k = 0; k < 3; ++k) {
    samples.push_back(testing::synthetic_sample(static_cast<std::uint32_t>(20 + k)));
    for (std::size_t i = 0; i < 784; ++i) X(i, k) = samples[k].x[i];
    for (std::size_t i = 0; i < 10; ++i) Y(i, k) = samples[k].y[i];
  }
  Tape batch;
  const TapeForward fb = record_forward(batch, net, X, Y);
  double mean_c = 0.0;
  for (std::size_t k = 0; k < 3; ++k) {
    Tape one;
    const TapeForward f1 = record_forward(one, net, samples[k].x, samples[k].y);
    for (std::size_t i = 0; i < 10; ++i) {
      BOOST_TEST(fb.O3.value()(i, k) == f1.O3.value()[i], boost::test_tools::tolerance(1e-14));
    }
    mean_c += f1.C.value().item() / 3.0;
  }
  BOOST_TEST(fb.C.value().item() == mean_c, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(batch.label(fb.Z1.index()).find("b0 (each column)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(options_are_small_visible_changes) {
  const Network plain;
  BOOST_TEST(plain.options().describe() == "bias=false activation=sigmoid init=fan-out seed=42");
  Network biased(NetworkOptions{.bias = true, .activation = Activation::relu});
  BOOST_TEST(biased.parameters().size() == 6u);
  BOOST_TEST(biased.parameters()[3]->name == "b0");
  BOOST_TEST(testing::identical(biased.b2.value, Tensor::zeros(10)));
  BOOST_TEST(testing::identical(biased.W0.value, plain.W0.value));  // same draws
  Tape tape;
  const testing::Sample s = testing::synthetic_sample(1);
  const TapeForward f = record_forward(tape, biased, s.x, s.y);
  BOOST_TEST(tape.label(f.O1.index()) == "O1 = relu(Z1)");
  BOOST_TEST(parse_enum<Activation>("tanh", "activation") == Activation::tanh);
  BOOST_TEST(parse_enum<InitScale>("fan-in", "init") == InitScale::fan_in);
  BOOST_CHECK_THROW(parse_enum<Activation>("softplus", "activation"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_enum<InitScale>("xavier", "init"), std::invalid_argument);
  BOOST_CHECK_THROW(biased.weight(3), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(synthetic_samples_look_like_mnist_digits) {
  const testing::Sample s = testing::synthetic_sample(3);
  std::size_t lit = 0;
  for (double v : s.x.values()) {
    BOOST_TEST((v >= 0.0 && v <= 1.0));
    lit += v > 0.0;
  }
  BOOST_TEST(lit > 100u);  // MNIST lights about 150 of 784 pixels
  BOOST_TEST(lit < 200u);
  BOOST_TEST(sum(s.y) == 1.0);
}

BOOST_AUTO_TEST_SUITE_END()
