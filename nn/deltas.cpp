// The hand-derived equations, line by line. Equation numbers are those of docs/derivation.md.
#include <stepgrad/nn/deltas.hpp>

#include <cmath>
#include <stdexcept>

#include <stepgrad/autodiff/functions.hpp>

namespace stepgrad {

namespace {

// A(Z) and A'(Z) element by element for the hidden activation.
Tensor activate(Activation a, const Tensor& z) {
  return map(z, [a](double v) { return activation(a, v); });
}
Tensor activate_prime(Activation a, const Tensor& z) {
  return map(z, [a](double v) { return activation_prime(a, v); });
}

// Z = W · O (+ b on every column).
Tensor layer(const Parameter& w, const Parameter& b, bool bias, const Tensor& o) {
  Tensor z = matmul(w.value, o);
  if (bias) {
    for (std::size_t r = 0; r < z.rows(); ++r)
      for (std::size_t c = 0; c < z.cols(); ++c) z(r, c) += b.value[r];
  }
  return z;
}

// Delta = delta ⊗ O for one sample (eq. 11), the mean of delta_k ⊗ O_k over a minibatch.
Tensor large_delta(const Tensor& delta, const Tensor& o) {
  if (delta.rank() == 1) return outer(delta, o);
  return (1.0 / static_cast<double>(delta.cols())) * matmul(delta, transpose(o));
}

// The mean over columns of a minibatch's small deltas (the bias gradient); a vector as is.
Tensor column_mean(const Tensor& delta) {
  if (delta.rank() == 1) return delta;
  Tensor m = Tensor::zeros(delta.rows());
  for (std::size_t r = 0; r < delta.rows(); ++r) {
    for (std::size_t c = 0; c < delta.cols(); ++c) m[r] += delta(r, c);
    m[r] /= static_cast<double>(delta.cols());
  }
  return m;
}

}  // namespace

double rescale_factor(const double* right, const double* wrong, std::size_t count,
                      std::size_t stride) {
  double rr = 0.0;
  double ww = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    rr += right[i * stride] * right[i * stride];
    ww += wrong[i * stride] * wrong[i * stride];
  }
  return ww == 0.0 ? 1.0 : std::sqrt(rr) / std::sqrt(ww);
}

Tensor article_softmax_derivative(const Tensor& z) {
  const Tensor s = fn::softmax(z);
  return map(s, [](double v) { return v * (1.0 - v); });
}

ForwardValues forward_pass(const Network& net, const Tensor& x) {
  const NetworkOptions& opt = net.options();
  ForwardValues a;
  a.O0 = x;                                      // eq. (1)  O0 = X
  a.Z1 = layer(net.W0, net.b0, opt.bias, a.O0);  // eq. (2)  Z1 = W0 · O0
  a.O1 = activate(opt.activation, a.Z1);         //          O1 = sigmoid(Z1)
  a.Z2 = layer(net.W1, net.b1, opt.bias, a.O1);  // eq. (3)  Z2 = W1 · O1
  a.O2 = activate(opt.activation, a.Z2);         //          O2 = sigmoid(Z2)
  a.Z3 = layer(net.W2, net.b2, opt.bias, a.O2);  // eq. (4)  Z3 = W2 · O2
  a.O3 = fn::softmax(a.Z3);                      //          O3 = softmax(Z3), eq. (6)
  return a;
}

Tensor forward_from(const Network& net, std::size_t l, const Tensor& Zl) {
  if (l < 1 || l > 3) throw std::invalid_argument("forward_from: l is 1, 2 or 3");
  const NetworkOptions& opt = net.options();
  Tensor z = Zl;
  if (l <= 1) z = layer(net.W1, net.b1, opt.bias, activate(opt.activation, z));  // eq. (3)
  if (l <= 2) z = layer(net.W2, net.b2, opt.bias, activate(opt.activation, z));  // eq. (4)
  return z;
}

Deltas delta_vectors(const Network& net, const ForwardValues& a, const Tensor& y, Recipe recipe) {
  const Activation act = net.options().activation;
  Deltas d;
  d.delta3 = a.O3 - y;  // eq. (8)
  const Tensor w2t_delta3 = matmul(transpose(net.W2.value), d.delta3);
  if (uses_article_eq9(recipe)) {
    d.delta2 = hadamard(w2t_delta3, article_softmax_derivative(a.Z2));  // eq. (9) as published (E1)
  } else {
    d.delta2 = hadamard(w2t_delta3, activate_prime(act, a.Z2));  // eq. (9)
  }
  if (recipe == Recipe::article_rescaled) {  // the article's direction, the true size
    const Tensor truth = hadamard(w2t_delta3, activate_prime(act, a.Z2));
    const std::size_t cols = truth.rank() == 2 ? truth.cols() : 1;
    for (std::size_t c = 0; c < cols; ++c) {
      const double f = rescale_factor(truth.data() + c, d.delta2.data() + c, truth.rows(), cols);
      for (std::size_t r = 0; r < truth.rows(); ++r) d.delta2.data()[r * cols + c] *= f;
    }
  }
  d.delta1 =
      hadamard(matmul(transpose(net.W1.value), d.delta2), activate_prime(act, a.Z1));  // eq. (10)
  return d;
}

Deltas backward_pass(const Network& net, const ForwardValues& a, const Tensor& y, Recipe recipe) {
  Deltas d = delta_vectors(net, a, y, recipe);
  d.Delta2 = large_delta(d.delta3, a.O2);  // eq. (11)
  d.Delta1 = large_delta(d.delta2, a.O1);
  d.Delta0 = large_delta(d.delta1, a.O0);
  return d;
}

void apply_deltas(Network& net, const Deltas& d, double lr) {
  sub_scaled(net.W2.value, lr, d.Delta2);  // eq. (12)  W_l <- W_l - lambda · Delta_l
  sub_scaled(net.W1.value, lr, d.Delta1);
  sub_scaled(net.W0.value, lr, d.Delta0);
  if (net.options().bias) {  // dC/db_l = delta_{l+1}
    sub_scaled(net.b2.value, lr, column_mean(d.delta3));
    sub_scaled(net.b1.value, lr, column_mean(d.delta2));
    sub_scaled(net.b0.value, lr, column_mean(d.delta1));
  }
}

ForwardValues deltas_sgd_step(Network& net, const Tensor& x, const Tensor& y, Recipe recipe,
                              double lr) {
  ForwardValues a = forward_pass(net, x);
  const Deltas d = backward_pass(net, a, y, recipe);  // every Delta from the old weights
  apply_deltas(net, d, lr);
  return a;
}

double cross_entropy(const Tensor& Z3, const Tensor& y) {
  const Tensor log_p = fn::log_softmax(Z3);
  const double total = -sum(hadamard(y, log_p));
  return total / static_cast<double>(Z3.rank() == 2 ? Z3.cols() : 1);
}

double article_cost(const Tensor& O3, const Tensor& y) {
  double total = 0.0;
  for (std::size_t i = 0; i < O3.size(); ++i) {
    total +=
        y[i] * fn::clamped_log(O3[i]) + (1.0 - y[i]) * fn::clamped_log(1.0 - O3[i]);  // eq. (7)
  }
  return -total / static_cast<double>(O3.rank() == 2 ? O3.cols() : 1);
}

}  // namespace stepgrad
