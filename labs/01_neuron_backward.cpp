// Lab 01: one neuron's backward (docs/labs.md). The neuron of 01_neuron: Z = W · O0,
// O = sigmoid(Z). Write dO/dZ and dO/dW below, then
//   ninja -C build labs/lab_01 && build/labs/lab_01
// Tensor's functions (autodiff/tensor.hpp): map, hadamard, outer, matmul, transpose, +, -, c * t.
#include <stepgrad/autodiff/functions.hpp>

#include "labs.hpp"

namespace stepgrad::labs {

// dO/dZ, shape (1,): sigmoid's derivative (eq. 5), written with what the forward pass kept.
Tensor neuron_grad_Z(const Neuron& n) {
  // TODO: return dO/dZ.
  todo("neuron_grad_Z: return dO/dZ, sigmoid's derivative at Z (eq. 5)");
}

// dO/dW, shape (1, 3): dO/dZ times dZ/dW.
Tensor neuron_grad_W(const Neuron& n, const Tensor& grad_Z) {
  // TODO: return dO/dW.
  todo("neuron_grad_W: return dO/dW = grad_Z times dZ/dW");
}

}  // namespace stepgrad::labs
