// The fused step. Each line does what the line of nn/deltas.cpp with the same equation number
// does, in the same order of floating-point operations, so the results are bit-identical.
#include <stepgrad/nn/fused.hpp>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/kernels.hpp>

namespace stepgrad {

namespace {

// y = W · o (+ b), then a = A(y): one layer of eqs. (2)-(3).
void layer(const Parameter& w, const Parameter& b, bool bias, const Tensor& o, Tensor& z) {
  z.resize(Shape::vector(w.value.rows()));
  kernels::gemm(false, false, w.value.rows(), 1, w.value.cols(), w.value.data(), o.data(), 0.0,
                z.data());
  if (bias) {
    for (std::size_t i = 0; i < z.size(); ++i) z[i] += b.value[i];
  }
}

void activate(Activation act, const Tensor& z, Tensor& o) {
  o.resize(z.shape());
  for (std::size_t i = 0; i < z.size(); ++i) o[i] = activation(act, z[i]);
}

// delta = (W^T · upstream) ⊙ A'(z): eqs. (9)-(10) (prime = nullptr uses A'(z)).
void back(const Parameter& w, const Tensor& upstream, Activation act, const Tensor& z,
          const Tensor* prime, Tensor& delta) {
  delta.resize(Shape::vector(w.value.cols()));
  kernels::gemm(true, false, w.value.cols(), 1, w.value.rows(), w.value.data(), upstream.data(),
                0.0, delta.data());
  for (std::size_t i = 0; i < delta.size(); ++i) {
    delta[i] = delta[i] * (prime != nullptr ? (*prime)[i] : activation_prime(act, z[i]));
  }
}

// W -= lr · (delta ⊗ o): eqs. (11)-(12). With `blocks`, only those column blocks (the rest
// of delta ⊗ o is zero there: Note [Sparse inputs]).
void update(Parameter& w, const Tensor& delta, const Tensor& o, double lr,
            const std::span<const std::uint32_t>* blocks) {
  // kernels::outer's alpha (1.0) times delta[i] is delta[i]: the same bits as W -= lr · Delta
  if (blocks != nullptr) {
    kernels::sub_outer_blocks(w.value.rows(), w.value.cols(), lr, delta.data(), o.data(), *blocks,
                              w.value.data());
  } else {
    kernels::sub_outer(w.value.rows(), w.value.cols(), lr, delta.data(), o.data(), w.value.data());
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
  if (recipe == Recipe::article) {  // eq. (9) as published: softmax's diagonal (erratum E1)
    fn::softmax(Z2_, softmax_z2_);
    for (double& s : softmax_z2_.values()) s = s * (1.0 - s);
    back(net.W2, delta3_, opt.activation, Z2_, &softmax_z2_, delta2_);
  } else {
    back(net.W2, delta3_, opt.activation, Z2_, nullptr, delta2_);  // eq. (9)
  }
  back(net.W1, delta2_, opt.activation, Z1_, nullptr, delta1_);  // eq. (10)

  // eqs. (11)-(12), after every delta: each Delta comes from the weights before the update.
  update(net.W2, delta3_, O2_, lr, nullptr);
  update(net.W1, delta2_, O1_, lr, nullptr);
  const std::span<const std::uint32_t> lit = kernels::nonzero_blocks(x.data(), x.size());
  update(net.W0, delta1_, x, lr, lit.empty() ? nullptr : &lit);
  if (opt.bias) {  // dC/db_l = delta_{l+1}
    for (std::size_t i = 0; i < delta3_.size(); ++i) net.b2.value[i] -= lr * delta3_[i];
    for (std::size_t i = 0; i < delta2_.size(); ++i) net.b1.value[i] -= lr * delta2_[i];
    for (std::size_t i = 0; i < delta1_.size(); ++i) net.b0.value[i] -= lr * delta1_[i];
  }
  return O3_;
}

}  // namespace stepgrad
