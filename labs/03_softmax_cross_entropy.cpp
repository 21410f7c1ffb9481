// Lab 03: softmax with cross-entropy, backward, for a minibatch (docs/labs.md).
// Z and Y are (10, 4): each column is one sample's logits and one-hot label. The cost is
// C = -sum(Y ⊙ log softmax(Z)), softmax taken over each column, summed over the 4 samples.
// Write dC/dZ below, then
//   ninja -C build labs/lab_03 && build/labs/lab_03
// fn::softmax(Z) (autodiff/functions.hpp) is softmax over each column.
#include <stepgrad/autodiff/functions.hpp>

#include "labs.hpp"

namespace stepgrad::labs {

// dC/dZ, shape (10, 4).
Tensor softmax_ce_grad(const Tensor& Z, const Tensor& Y) {
  // TODO
  todo("softmax_ce_grad: dC/dZ for C = -sum(Y ⊙ log softmax(Z))");
}

}  // namespace stepgrad::labs
