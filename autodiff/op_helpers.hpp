// What an op is written with: the forward loops of element-wise ops, and the accumulate helpers
// of backward rules (Note [Gradient accumulation] in tape.hpp). Include it to write an op, in
// autodiff/ops_*.cpp or in a program of your own (docs/architecture.md, "How to add an op").
#pragma once

#include <cstddef>
#include <string_view>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/tape.hpp>

namespace stepgrad {

/// Throws ShapeError("op: shapes (a) and (b) do not fit: need equal shapes") unless a and b
/// have one shape.
void require_same_shape(std::string_view op, Var a, Var b);

/// Records a node of x's shape whose value is f(x[i]) element by element: the forward of an
/// element-wise function. Commit it with the op's OpDef.
template <class F>
Node& record_map(Var x, F f) {
  Node& y = x.tape().record(x.shape(), x);
  const Tensor& xv = x.value();
  Tensor& yv = y.value();
  for (std::size_t i = 0; i < yv.size(); ++i) yv[i] = f(xv[i]);
  return y;
}

/// Records a node whose value is f(a[i], b[i]) element by element (a and b of one shape, see
/// require_same_shape). Commit it with the op's OpDef.
template <class F>
Node& record_zip(Var a, Var b, F f) {
  Node& c = a.tape().record(a.shape(), a, b);
  const Tensor& av = a.value();
  const Tensor& bv = b.value();
  Tensor& cv = c.value();
  for (std::size_t i = 0; i < cv.size(); ++i) cv[i] = f(av[i], bv[i]);
  return c;
}

/// Adds contribution(i) to element i of n's gradient, for every element, when n needs a
/// gradient (Note [Gradient accumulation]). The backward rules of element-wise ops use it.
template <class F>
void accumulate(Node& n, F contribution) {
  if (!n.requires_grad) return;
  auto [g, beta] = n.gradient().for_accumulation(n.value().shape());
  const std::size_t size = g.size();
  if (beta == 0.0) {
    for (std::size_t i = 0; i < size; ++i) g[i] = contribution(i);
  } else {
    for (std::size_t i = 0; i < size; ++i) g[i] += contribution(i);
  }
}

/// accumulate() for a rule that couples the elements of a column (a sample), as softmax's does:
/// for each column of n (the whole of a vector), s = the sum of term(i) over its elements, in
/// order, then element i of n's gradient gets contribution(i, s).
template <class Term, class Contribution>
void accumulate_by_column(Node& n, Term term, Contribution contribution) {
  if (!n.requires_grad) return;
  const Gradient::Target target = n.gradient().for_accumulation(n.value().shape());
  Tensor& g = target.tensor;  // (not a structured binding: clang 14 cannot capture those)
  const double beta = target.beta;
  fn::for_each_column(n.value().shape(),
                      [&](std::size_t first, std::size_t stride, std::size_t rows) {
                        double s = 0.0;
                        for (std::size_t k = 0; k < rows; ++k) s += term(first + k * stride);
                        for (std::size_t k = 0; k < rows; ++k) {
                          const std::size_t i = first + k * stride;
                          const double d = contribution(i, s);
                          g[i] = beta == 0.0 ? d : g[i] + d;
                        }
                      });
}

}  // namespace stepgrad
