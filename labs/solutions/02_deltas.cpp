// Lab 02, a solution: the article's deltas, eqs. (8)-(11), and the update, eq. (12).
#include <stepgrad/autodiff/functions.hpp>

#include "labs.hpp"

namespace stepgrad::labs {
namespace {
// sigmoid'(Z) = O (1 - O) (eq. 5), with the O that the forward pass kept.
Tensor sigmoid_prime_from(const Tensor& O) {
  return map(O, [](double o) { return o * (1.0 - o); });
}
}  // namespace

Tensor delta3(const Forward& f) { return f.O3 - f.Y; }

Tensor delta2(const Forward& f, const Tensor& delta3) {
  return hadamard(matmul(transpose(f.W2), delta3), sigmoid_prime_from(f.O2));
}

Tensor delta1(const Forward& f, const Tensor& delta2) {
  return hadamard(matmul(transpose(f.W1), delta2), sigmoid_prime_from(f.O1));
}

Tensor Delta2(const Forward& f, const Tensor& delta3) { return outer(delta3, f.O2); }
Tensor Delta1(const Forward& f, const Tensor& delta2) { return outer(delta2, f.O1); }
Tensor Delta0(const Forward& f, const Tensor& delta1) { return outer(delta1, f.O0); }

// All three Deltas from the weights before the step, then the updates.
void sgd_step(Forward& f, double lr) {
  const Tensor d3 = delta3(f);
  const Tensor d2 = delta2(f, d3);
  const Tensor d1 = delta1(f, d2);
  const Tensor D2 = Delta2(f, d3), D1 = Delta1(f, d2), D0 = Delta0(f, d1);
  f.W2 = f.W2 - lr * D2;
  f.W1 = f.W1 - lr * D1;
  f.W0 = f.W0 - lr * D0;
}

}  // namespace stepgrad::labs
