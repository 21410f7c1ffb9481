// Lab 01, a solution: one neuron's backward (docs/labs.md).
#include <stepgrad/autodiff/functions.hpp>

#include "labs.hpp"

namespace stepgrad::labs {

// dO/dZ = sigmoid'(Z) = O (1 - O) (eq. 5): the forward pass's O is all it needs.
Tensor neuron_grad_Z(const Neuron& n) {
  return map(n.O, [](double o) { return o * (1.0 - o); });
}

// dO/dW_j = dO/dZ · O0_j: the outer product grad_Z ⊗ O0, (1,) ⊗ (3,) = (1, 3).
Tensor neuron_grad_W(const Neuron& n, const Tensor& grad_Z) { return outer(grad_Z, n.O0); }

}  // namespace stepgrad::labs
