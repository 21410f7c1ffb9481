// Lab 02: the article's deltas, eqs. (8)-(11), and the update, eq. (12) (docs/labs.md).
// f holds one sample's forward pass through the 784-128-64-10 network: f.W0, f.W1, f.W2, f.O0,
// f.Z1 ... f.O3 and the label f.Y. Write each function below, then
//   ninja -C build labs/lab_02 && build/labs/lab_02
// Tensor's functions (autodiff/tensor.hpp): matmul, transpose, outer, hadamard, map, +, -, c * t;
// fn::sigmoid_prime(z) (autodiff/functions.hpp) is sigmoid's derivative at z.
#include <stepgrad/autodiff/functions.hpp>

#include "labs.hpp"

namespace stepgrad::labs {

// eq. (8): dC/dZ3 for C = -Y · log softmax(Z3).
Tensor delta3(const Forward& f) {
  // TODO
  todo("delta3: dC/dZ3, eq. (8)");
}

// eq. (9): dC/dZ2, from delta3 through W2 and layer 2's sigmoid.
Tensor delta2(const Forward& f, const Tensor& delta3) {
  // TODO
  todo("delta2: dC/dZ2, eq. (9)");
}

// eq. (10): dC/dZ1, from delta2 through W1 and layer 1's sigmoid.
Tensor delta1(const Forward& f, const Tensor& delta2) {
  // TODO
  todo("delta1: dC/dZ1, eq. (10)");
}

// eq. (11): dC/dW2, (10, 64).
Tensor Delta2(const Forward& f, const Tensor& delta3) {
  // TODO
  todo("Delta2: dC/dW2, eq. (11)");
}

// eq. (11): dC/dW1, (64, 128).
Tensor Delta1(const Forward& f, const Tensor& delta2) {
  // TODO
  todo("Delta1: dC/dW1, eq. (11)");
}

// eq. (11): dC/dW0, (128, 784).
Tensor Delta0(const Forward& f, const Tensor& delta1) {
  // TODO
  todo("Delta0: dC/dW0, eq. (11)");
}

// eq. (12): one SGD step on f.W0, f.W1, f.W2 (you may call the functions above).
void sgd_step(Forward& f, double lr) {
  // TODO
  todo("sgd_step: W <- W - lr Delta for W0, W1, W2, eq. (12)");
}

}  // namespace stepgrad::labs
