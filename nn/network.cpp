// The network's initialisation (the article's nn_init) and its forward pass on a tape.
#include <stepgrad/nn/network.hpp>

#include <cmath>
#include <stdexcept>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/random.hpp>

namespace stepgrad {

std::string NetworkOptions::describe() const {
  return fmt::format("bias={} activation={} init={} seed={}", bias, to_string(activation),
                     to_string(init), seed);
}

Tensor init_weight(RandomState& rng, std::size_t out, std::size_t in, InitScale scale) {
  Tensor w = rng.randn(out, in);
  const double fan = static_cast<double>(scale == InitScale::fan_out ? out : in);
  const double s = std::sqrt(1.0 / fan);
  for (double& v : w.values()) v *= s;
  return w;
}

Network::Network(const NetworkOptions& options)
    : W0("W0", Tensor()),
      W1("W1", Tensor()),
      W2("W2", Tensor()),
      b0("b0", Tensor::zeros(kLayerSizes[1])),
      b1("b1", Tensor::zeros(kLayerSizes[2])),
      b2("b2", Tensor::zeros(kLayerSizes[3])),
      options_(options) {
  RandomState rng(options.seed);  // np.random.seed(seed), then W0, W1, W2 in this order
  W0.value = init_weight(rng, kLayerSizes[1], kLayerSizes[0], options.init);
  W1.value = init_weight(rng, kLayerSizes[2], kLayerSizes[1], options.init);
  W2.value = init_weight(rng, kLayerSizes[3], kLayerSizes[2], options.init);
}

std::vector<Parameter*> Network::parameters() {
  std::vector<Parameter*> ps{&W0, &W1, &W2};
  if (options_.bias) ps.insert(ps.end(), {&b0, &b1, &b2});
  return ps;
}

std::vector<const Parameter*> Network::parameters() const {
  std::vector<const Parameter*> ps{&W0, &W1, &W2};
  if (options_.bias) ps.insert(ps.end(), {&b0, &b1, &b2});
  return ps;
}

Parameter& Network::weight(std::size_t l) {
  if (l > 2) throw std::out_of_range(fmt::format("weight W{}: the network has W0, W1, W2", l));
  return l == 0 ? W0 : l == 1 ? W1 : W2;
}

const Parameter& Network::weight(std::size_t l) const {
  return const_cast<Network*>(this)->weight(l);
}

Parameter& Network::bias(std::size_t l) {
  if (l > 2) throw std::out_of_range(fmt::format("bias b{}: the network has b0, b1, b2", l));
  return l == 0 ? b0 : l == 1 ? b1 : b2;
}

std::size_t Network::parameter_count() const {
  std::size_t n = 0;
  for (const Parameter* p : parameters()) n += p->value.size();
  return n;
}

void Network::zero_grad() { stepgrad::zero_grad(parameters()); }

double activation(Activation a, double z) {
  switch (a) {
    case Activation::sigmoid:
      return fn::sigmoid(z);
    case Activation::tanh:
      return fn::tanh(z);
    case Activation::relu:
      return fn::relu(z);
  }
  return 0.0;
}

double activation_prime(Activation a, double z) {
  switch (a) {
    case Activation::sigmoid:
      return fn::sigmoid_prime(z);
    case Activation::tanh:
      return fn::tanh_prime(z);
    case Activation::relu:
      return fn::relu_prime(z);
  }
  return 0.0;
}

namespace {
Var activate(Activation a, Var z) {
  switch (a) {
    case Activation::sigmoid:
      return sigmoid(z);
    case Activation::tanh:
      return tanh(z);
    case Activation::relu:
      return relu(z);
  }
  return z;
}

// Z = W · O (+ b): a bias is added to the one column, or to every column of a minibatch.
Var layer(Tape& tape, Parameter& w, Parameter& b, bool bias, Var o) {
  const Var wo = matmul(tape.param(w), o);
  if (!bias) return wo;
  const Var bv = tape.param(b);
  return wo.shape().rank == 1 ? add(wo, bv) : add_to_columns(wo, bv);
}
}  // namespace

TapeForward record_forward(Tape& tape, Network& net, const Tensor& x, const Tensor& y) {
  const NetworkOptions& opt = net.options();
  TapeForward f;
  f.O0 = tape.input(x, "O0");                                      // eq. (1)
  f.Z1 = layer(tape, net.W0, net.b0, opt.bias, f.O0).named("Z1");  // eq. (2)
  f.O1 = activate(opt.activation, f.Z1).named("O1");
  f.Z2 = layer(tape, net.W1, net.b1, opt.bias, f.O1).named("Z2");  // eq. (3)
  f.O2 = activate(opt.activation, f.Z2).named("O2");
  f.Z3 = layer(tape, net.W2, net.b2, opt.bias, f.O2).named("Z3");  // eq. (4)
  f.O3 = softmax(f.Z3).named("O3");
  f.Y = tape.input(y, "Y");
  // Training minimises the categorical cross-entropy, whose gradient is eq. (8); softmax
  // and log are fused in one op so dC/dZ3 is exactly O3 - Y (erratum E2).
  const std::size_t batch = x.rank() == 2 ? x.cols() : 1;
  f.C = cross_entropy_logits(f.Z3, f.Y).named(batch > 1 ? "C_sum" : "C");
  f.cost = binary_cross_entropy(f.O3, f.Y).named(batch > 1 ? "cost_sum" : "cost");  // eq. (7)
  if (batch > 1) {  // the mean over the minibatch's samples
    const double mean = 1.0 / static_cast<double>(batch);
    f.C = scale(f.C, mean).named("C");
    f.cost = scale(f.cost, mean).named("cost");
  }
  return f;
}

}  // namespace stepgrad
