// The ops: each records one node on its inputs' tape. Forward and backward of an op sit
// side by side in ops_*.cpp, the derivative written on the line that applies it;
// docs/ops.md is the table of them all.
#pragma once

#include <stepgrad/autodiff/print.hpp>  // fmt::print("{}", tensor) wherever the ops are
#include <stepgrad/autodiff/tape.hpp>

namespace stepgrad {

// ---- linear algebra and arithmetic (ops_linear.cpp) ----
/// A · B: (m,k)·(k,n) -> (m,n), or (m,k)·(k,) -> (m,).
Var matmul(Var a, Var b);
/// Element-wise, equal shapes.
Var add(Var a, Var b);
Var sub(Var a, Var b);
Var mul(Var a, Var b);
/// c * x for a constant c.
Var scale(Var x, double c);
Var neg(Var x);
/// c - x for a constant c (the article's 1 - O3).
Var rsub(double c, Var x);
/// Sum of all elements: a scalar.
Var sum(Var x);
/// Mean of all elements, sum(x) / size: a scalar (PyTorch's x.mean()).
Var mean(Var x);
/// Sum of a ⊙ b: a scalar (equal shapes).
Var dot(Var a, Var b);
/// u ⊗ v = u v^T: (m,) and (n,) -> (m, n).
Var outer(Var u, Var v);
/// m + v added to every column of m: (r, c) and (r,) -> (r, c); a bias for a minibatch.
Var add_to_columns(Var m, Var v);

inline Var operator+(Var a, Var b) { return add(a, b); }
inline Var operator-(Var a, Var b) { return sub(a, b); }
inline Var operator*(Var a, Var b) { return mul(a, b); }  ///< element-wise, as numpy's *
inline Var operator*(double c, Var x) { return scale(x, c); }
inline Var operator-(Var x) { return neg(x); }
inline Var operator-(double c, Var x) { return rsub(c, x); }

// ---- element-wise functions and softmax (ops_activation.cpp) ----
Var exp(Var x);
/// Natural log, unclamped: log 0 = -inf (the losses clamp; see binary_cross_entropy).
Var log(Var x);
/// 1 / (1 + e^-x), evaluated without overflow for any x (R8 in docs/reliability.md).
Var sigmoid(Var x);
Var tanh(Var x);
/// x ⊙ x, element-wise (PyTorch's x.square(), x**2).
Var square(Var x);
Var relu(Var x);
/// log(1 + e^x), without overflow for any x: a smooth relu.
Var softplus(Var x);
/// Softmax of a vector, or of each column of a matrix (a column is a sample), shifted by
/// the max for stability (eq. 6). Backward is the full Jacobian-vector product.
Var softmax(Var z);
/// log(softmax(z)) = z - logsumexp(z), per column like softmax.
Var log_softmax(Var z);

// ---- losses (ops_loss.cpp) ----
/// The article's cost, eq. (7): -sum(Y ⊙ log(O) + (1 - Y) ⊙ log(1 - O)), each log clamped
/// at -100 as PyTorch's BCELoss does, so it is never infinite (R7). A scalar.
Var binary_cross_entropy(Var o, Var y);
/// Categorical cross-entropy from logits: -sum(Y ⊙ log_softmax(Z)), summed over columns.
/// Softmax and the log are fused, so dC/dZ is exactly softmax(Z) - Y for one-hot Y (eq. 8).
Var cross_entropy_logits(Var z, Var y);
/// Mean squared error, mean((o - y) ⊙ (o - y)) over all elements: a scalar, as PyTorch's
/// mse_loss (MSELoss with its default reduction, the mean).
Var mse_loss(Var o, Var y);
/// The same as mse_loss: the name a learner may reach for first.
inline Var mse(Var o, Var y) { return mse_loss(o, y); }

}  // namespace stepgrad
