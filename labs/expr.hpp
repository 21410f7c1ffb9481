// A small expression language over named tensors, for "Your turn" (docs/labs.md): the learner
// types a delta as the article writes it, `(W2^T · delta3) ⊙ sigmoid'(Z2)`, or in ASCII,
// `W2.T @ delta3 * dsigmoid(Z2)`, and the engine's tensor functions evaluate it. The explorer's
// page (web/bindings.cpp) and the tests share it.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad::labs {

// Note [The expression language]
//   expr    := term (('+' | '-') term)*
//   term    := unary (('@' | '·' | '*' | '⊙' | '/' | '⊗') unary)*    left to right, as numpy's
//                                                                     @ and * are
//   unary   := '-' unary | postfix
//   postfix := primary ('^T' | '.T' | 'ᵀ')*
//   primary := number | name | function '(' expr (',' expr)* ')' | '(' expr ')'
// `@` and `·` are the matrix product, `*` and `⊙` the element-wise one, `⊗` the outer product;
// `+ - * /` take two tensors of one shape, or a number and a tensor. A vector is a column (Note
// [Column vectors]): its transpose is a row (1, n), a row's transpose is the vector again, and a
// column times a row, `delta3 @ O2^T`, is the outer product. Names are the environment's (W0..W2,
// O0..O3, Z1..Z3, Y, delta1..delta3, ...; δ3 is delta3, Δ2 Delta2, λ lr); the functions are
// sigmoid (σ), sigmoid' (dsigmoid, σ'), softmax, softmax' (dsoftmax: the article's s (1 - s),
// erratum E1's), exp, log, outer(u, v) and transpose(x). Every error carries the column (1-based,
// in characters) of what it is about: the token, the operator whose shapes do not fit, the
// parenthesis left open.

/// A mistake in an expression: what is wrong, and where.
class ExprError : public std::invalid_argument {
 public:
  enum class Kind {
    syntax,  ///< a character or token out of place, a parenthesis unbalanced
    name,    ///< a name or function the language does not know
    shape,   ///< an operation whose operands' shapes do not fit (the message names both)
  };
  ExprError(Kind kind, std::size_t column, const std::string& message)
      : std::invalid_argument(message), kind_(kind), column_(column) {}
  Kind kind() const { return kind_; }
  /// 1-based, counted in characters (code points), not bytes.
  std::size_t column() const { return column_; }

 private:
  Kind kind_;
  std::size_t column_;
};

struct ExprNode;

/// A parsed expression.
class Expr {
 public:
  /// Parses `text`; throws ExprError (syntax) with the column of the first mistake.
  static Expr parse(std::string_view text);
  /// The names the expression reads, in order of first use ("W2", "delta3", "Z2").
  std::vector<std::string> names() const;

 private:
  friend Tensor evaluate(const Expr& e, const std::map<std::string, Tensor>& env);
  std::shared_ptr<const ExprNode> root_;
};

/// The value of `e` with its names bound by `env`; throws ExprError (name, shape) with the
/// column of the unknown name or of the operator whose operands do not fit.
Tensor evaluate(const Expr& e, const std::map<std::string, Tensor>& env);

/// "column 7: unknown name 'W3'": an ExprError as one line.
std::string format_error(const ExprError& e);

}  // namespace stepgrad::labs
