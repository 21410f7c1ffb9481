// What each lab asks the learner to write (docs/labs.md). A lab is a skeleton file in labs/
// whose `// TODO` bodies call todo(); the same functions, written, are in labs/solutions/.
// The grader (grader.hpp) runs them on the article's numbers and compares every result with the
// tape and with finite differences.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <stepgrad/autodiff/tape.hpp>
#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad::labs {

/// What an unwritten `// TODO` body throws: the grader reports the function as not written yet.
struct NotWritten : std::logic_error {
  using std::logic_error::logic_error;
};
/// The body of a function the learner has not written yet.
[[noreturn]] inline void todo(std::string_view what) { throw NotWritten(std::string(what)); }

// ---- lab 01: one neuron's backward (01_neuron's graph: Z = W · O0, O = sigmoid(Z)) ----
struct Neuron {
  Tensor O0;  ///< (3,) the inputs
  Tensor W;   ///< (1, 3) the weights
  Tensor Z;   ///< (1,) W · O0
  Tensor O;   ///< (1,) sigmoid(Z)
};
/// dO/dZ, shape (1,).
Tensor neuron_grad_Z(const Neuron& n);
/// dO/dW, shape (1, 3), from grad_Z = dO/dZ.
Tensor neuron_grad_W(const Neuron& n, const Tensor& grad_Z);

// ---- lab 02: the article's deltas, eqs. (8)-(11), and the update, eq. (12) ----
/// One sample's forward pass through the article's network (eqs. 1-4) and its label.
struct Forward {
  Tensor W0, W1, W2;  ///< (128, 784), (64, 128), (10, 64)
  Tensor O0;          ///< (784,)
  Tensor Z1, O1;      ///< (128,)
  Tensor Z2, O2;      ///< (64,)
  Tensor Z3, O3;      ///< (10,)
  Tensor Y;           ///< (10,) one-hot
};
Tensor delta3(const Forward& f);                        ///< eq. (8)
Tensor delta2(const Forward& f, const Tensor& delta3);  ///< eq. (9)
Tensor delta1(const Forward& f, const Tensor& delta2);  ///< eq. (10)
Tensor Delta2(const Forward& f, const Tensor& delta3);  ///< eq. (11)
Tensor Delta1(const Forward& f, const Tensor& delta2);  ///< eq. (11)
Tensor Delta0(const Forward& f, const Tensor& delta1);  ///< eq. (11)
/// Eq. (12): one SGD step on f.W0, f.W1, f.W2 in place, with learning rate lr.
void sgd_step(Forward& f, double lr);

// ---- lab 03: softmax with cross-entropy, backward, for a minibatch ----
/// dC/dZ for C = -sum(Y ⊙ log softmax(Z)), softmax taken per column (a column is a sample),
/// Z and Y of shape (10, batch), C summed over the batch.
Tensor softmax_ce_grad(const Tensor& Z, const Tensor& Y);

// ---- lab 04: an op the engine lacks ----
/// y = x³, element-wise, as an op on the tape: forward, backward rule, rule text.
Var cube(Var x);

// ---- lab 05: find the bug ----
/// y = log(1 + e^x), element-wise, an op on the tape.
Var softplus_op(Var x);
/// y = tanh(x), element-wise, an op on the tape.
Var tanh_op(Var x);

}  // namespace stepgrad::labs
