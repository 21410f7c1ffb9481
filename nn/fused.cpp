// The fused step. Each line does what the line of nn/deltas.cpp with the same equation number
// does, in the same order of floating-point operations, so the results are bit-identical.
#include <stepgrad/nn/fused.hpp>

#include <stepgrad/autodiff/functions.hpp>

namespace stepgrad {

namespace {

// z = W · o (+ b): eqs. (2)-(4) for one layer.
void layer(const Parameter& w, const Parameter& b, bool bias, const Tensor& o, Tensor& z) {
  matvec(w.value, o, z);
  if (bias) {
    for (std::size_t i = 0; i < z.size(); ++i) z[i] += b.value[i];
  }
}

void activate(Activation act, const Tensor& z, Tensor& o) {
  if (act == Activation::sigmoid) {
    fn::sigmoid(z, o);  // activation()'s bits, several elements at a time
    return;
  }
  o.resize(z.shape());
  for (std::size_t i = 0; i < z.size(); ++i) o[i] = activation(act, z[i]);
}

// A'(z) from o = A(z), with the bits of activation_prime(a, z): sigmoid' = s (1 - s) and
// tanh' = 1 - t^2 of the same s and t, relu' = 1 exactly where relu(z) > 0. Taking it from the
// layer's output saves evaluating A, and exp, a second time, as the tape's sigmoid does.
double activation_prime_from_output(Activation a, double o) {
  switch (a) {
    case Activation::sigmoid:
      return o * (1.0 - o);
    case Activation::tanh:
      return 1.0 - o * o;
    case Activation::relu:
      return o > 0.0 ? 1.0 : 0.0;
  }
  return 0.0;
}

// delta = (W^T · upstream) ⊙ A'(z): eqs. (9)-(10), with o = A(z) (prime = nullptr uses A'(z)).
void back(const Parameter& w, const Tensor& upstream, Activation act, const Tensor& o,
          const Tensor* prime, Tensor& delta) {
  matvec_transposed(w.value, upstream, delta);
  for (std::size_t i = 0; i < delta.size(); ++i) {
    delta[i] =
        delta[i] * (prime != nullptr ? (*prime)[i] : activation_prime_from_output(act, o[i]));
  }
}

}  // namespace

const Tensor& FusedDeltasStep::step(Network& net, const Tensor& x, const Tensor& y, Recipe recipe,
                                    double lr) {
  const NetworkOptions& opt = net.options();
  layer(net.W0, net.b0, opt.bias, x, Z1_);  // eq. (2)
  activate(opt.activation, Z1_, O1_);
  layer(net.W1, net.b1, opt.bias, O1_, Z2_);  // eq. (3)
  activate(opt.activation, Z2_, O2_);
  layer(net.W2, net.b2, opt.bias, O2_, Z3_);  // eq. (4)
  fn::softmax(Z3_, O3_);

  delta3_.resize(O3_.shape());
  for (std::size_t i = 0; i < O3_.size(); ++i) delta3_[i] = O3_[i] - y[i];  // eq. (8)
  if (uses_article_eq9(recipe)) {  // eq. (9) as published: softmax's diagonal (erratum E1)
    fn::softmax(Z2_, softmax_z2_);
    for (double& s : softmax_z2_.values()) s = s * (1.0 - s);
    back(net.W2, delta3_, opt.activation, O2_, &softmax_z2_, delta2_);
    if (recipe == Recipe::article_rescaled) {  // the article's direction, the true size
      back(net.W2, delta3_, opt.activation, O2_, nullptr, true_delta2_);
      const double f = rescale_factor(true_delta2_.data(), delta2_.data(), delta2_.size());
      for (double& v : delta2_.values()) v *= f;
    }
  } else {
    back(net.W2, delta3_, opt.activation, O2_, nullptr, delta2_);  // eq. (9)
  }
  back(net.W1, delta2_, opt.activation, O1_, nullptr, delta1_);  // eq. (10)

  // eqs. (11)-(12), after every delta: each Delta comes from the weights before the update.
  // W -= lr · (delta ⊗ O): kernels::outer's alpha (1.0) times delta[i] is delta[i], so these are
  // the bits of W -= lr · Delta with Delta written out.
  sub_outer(net.W2.value, lr, delta3_, O2_);
  sub_outer(net.W1.value, lr, delta2_, O1_);
  sub_outer(net.W0.value, lr, delta1_, x);
  if (opt.bias) {  // dC/db_l = delta_{l+1}
    for (std::size_t i = 0; i < delta3_.size(); ++i) net.b2.value[i] -= lr * delta3_[i];
    for (std::size_t i = 0; i < delta2_.size(); ++i) net.b1.value[i] -= lr * delta2_[i];
    for (std::size_t i = 0; i < delta1_.size(); ++i) net.b0.value[i] -= lr * delta1_[i];
  }
  return O3_;
}

}  // namespace stepgrad
