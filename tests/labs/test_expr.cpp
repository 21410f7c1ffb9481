// "Your turn"'s expression language (labs/expr.hpp): both spellings parse to the same value, the
// engine's functions evaluate it, and every error says what is wrong at which column.
#include <cmath>
#include <map>
#include <string>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/labs/expr.hpp>
#include <stepgrad/nn/deltas.hpp>

using namespace stepgrad;
using namespace stepgrad::labs;

namespace {

// W (2, 3), d (2,), z (3,): small enough to check by hand.
std::map<std::string, Tensor> names() {
  return {
      {"W2", Tensor::matrix({{1, 2, 3}, {4, 5, 6}})},
      {"delta3", Tensor::vector({1, -1})},
      {"Z2", Tensor::vector({0.5, -0.25, 2})},
      {"O2", Tensor::vector({0.1, 0.2, 0.3})},
      {"lr", Tensor::scalar(0.5)},
  };
}

Tensor eval(const std::string& text) { return evaluate(Expr::parse(text), names()); }

// The ExprError that evaluating `text` throws.
ExprError error_of(const std::string& text) {
  try {
    eval(text);
  } catch (const ExprError& e) {
    return e;
  }
  BOOST_FAIL("no error for '" + text + "'");
  throw;
}

void check_error(const std::string& text, ExprError::Kind kind, std::size_t column,
                 const std::string& message) {
  const ExprError e = error_of(text);
  BOOST_TEST_CONTEXT(text) {
    BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(kind));
    BOOST_TEST(e.column() == column);
    BOOST_TEST(std::string(e.what()) == message);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(expr)

BOOST_AUTO_TEST_CASE(the_articles_notation_and_ascii_give_the_same_tensor) {
  const Tensor want = hadamard(matmul(transpose(names()["W2"]), names()["delta3"]),
                               map(names()["Z2"], [](double v) { return fn::sigmoid_prime(v); }));
  BOOST_TEST((want.shape() == Shape::vector(3)));
  BOOST_TEST((eval("(W2^T · delta3) ⊙ sigmoid'(Z2)") == want));
  BOOST_TEST((eval("W2.T @ delta3 * dsigmoid(Z2)") == want));
  BOOST_TEST((eval("(W2ᵀ·δ3)⊙σ'(Z2)") == want));
  BOOST_TEST((eval("transpose(W2) @ delta3 * sigmoid'(Z2)") == want));
}

BOOST_AUTO_TEST_CASE(products_numbers_and_precedence) {
  const auto t = names();
  // -(3 - 1) / 2: unary minus, then / and - left to right.
  BOOST_TEST(eval("-(3 - 1) / 2 + 0").item() == -1.0);
  BOOST_TEST(eval("2 * 3 - 4 / 2").item() == 4.0);
  BOOST_TEST(eval("1.5e1").item() == 15.0);
  BOOST_TEST((eval("Z2 * (1 - Z2)") ==
              hadamard(t.at("Z2"), 1.0 * (Tensor::vector({1, 1, 1}) - t.at("Z2")))));
  BOOST_TEST((eval("-Z2") == -1.0 * t.at("Z2")));
  BOOST_TEST((eval("Z2 / 2") == 0.5 * t.at("Z2")));
  // the outer product three ways: ⊗, outer(), and a column times a row
  const Tensor o = outer(t.at("delta3"), t.at("O2"));
  BOOST_TEST((eval("delta3 ⊗ O2") == o));
  BOOST_TEST((eval("outer(delta3, O2)") == o));
  BOOST_TEST((eval("delta3 @ O2^T") == o));
  BOOST_TEST((eval("(O2^T)^T") == t.at("O2")));  // a row's transpose is the vector again
  // lambda · Delta: a number and a tensor
  BOOST_TEST((eval("W2 - λ · W2") == 0.5 * t.at("W2")));
  BOOST_TEST((eval("W2 - lr * W2") == 0.5 * t.at("W2")));
}

BOOST_AUTO_TEST_CASE(functions_are_the_engines) {
  const auto t = names();
  BOOST_TEST((eval("softmax(Z2)") == fn::softmax(t.at("Z2"))));
  BOOST_TEST((eval("softmax'(Z2)") == article_softmax_derivative(t.at("Z2"))));
  BOOST_TEST((eval("dsoftmax(Z2)") == article_softmax_derivative(t.at("Z2"))));
  BOOST_TEST((eval("sigmoid(Z2)") == map(t.at("Z2"), [](double v) { return fn::sigmoid(v); })));
  BOOST_TEST(std::abs(eval("log(exp(Z2))")[2] - 2.0) < 1e-15);
}

BOOST_AUTO_TEST_CASE(names_in_order_of_first_use) {
  const std::vector<std::string> want = {"W2", "delta3", "Z2"};
  BOOST_TEST(Expr::parse("(W2^T · delta3) ⊙ sigmoid'(Z2) + 0 * W2").names() == want);
}

BOOST_AUTO_TEST_CASE(every_error_has_its_column) {
  using K = ExprError::Kind;
  // unknown name: the column of the name; the names in scope listed
  check_error("W2.T @ delta4", K::name, 8,
              "unknown name 'delta4'; the names here: O2 W2 Z2 delta3 lr");
  check_error("sigma(Z2)", K::name, 1,
              "unknown function 'sigma'; the functions: sigmoid, sigmoid', dsigmoid, softmax, "
              "softmax', dsoftmax, exp, log, outer, transpose");
  // bad token: columns count characters, not bytes (· and ⊙ are two and three bytes)
  check_error("W2ᵀ · delta3 $ 2", K::syntax, 14, "unexpected character '$'");
  check_error("W2^2", K::syntax, 3, "'^' is only for a transpose here: write ^T");
  check_error("1.2.3", K::syntax, 1, "'1.2.3' is not a number");
  // unbalanced parentheses: the '(' left open, or the ')' without one
  check_error("(W2^T · (delta3 ⊙ Z2)", K::syntax, 1, "this '(' is never closed");
  check_error("W2^T · delta3)", K::syntax, 14, "')' has no matching '('");
  check_error("sigmoid(Z2", K::syntax, 8, "this '(' is never closed");
  check_error("(W2 delta3)", K::syntax, 5, "expected an operator or ')' before 'delta3'");
  check_error("W2 delta3", K::syntax, 4, "expected an operator before 'delta3'");
  check_error("W2 @", K::syntax, 5, "expected a name, a number or '(' here, not the end");
  check_error("", K::syntax, 1, "expected a name, a number or '(' here, not the end");
  check_error("outer(Z2)", K::syntax, 1, "outer takes 2 arguments, not 1");
  check_error("sigmoid + 1", K::syntax, 1, "sigmoid is a function: write sigmoid(...)");
  // shapes: the operator's column, both shapes named
  check_error("W2 @ delta3 * dsigmoid(Z2)", K::shape, 4,
              "@: shapes (2, 3) and (2,) do not fit: the left's columns (3) are not the right's "
              "rows (2)");
  check_error("(W2^T · delta3) ⊙ delta3", K::shape, 17,
              "⊙: shapes (3,) and (2,) do not fit: ⊙ takes two tensors of one shape, or a number "
              "and a tensor");
  check_error("delta3 @ W2", K::shape, 8,
              "@: shapes (2,) and (2, 3) do not fit: a vector is a column (2, 1), and (k, 1) · "
              "(m, n) needs m = 1");
  check_error("W2 ⊗ O2", K::shape, 4,
              "⊗: shapes (2, 3) and (3,) do not fit: the outer product "
              "takes two vectors");
  BOOST_TEST(format_error(error_of("W2 + W3")) ==
             "column 6: unknown name 'W3'; the names here: O2 W2 Z2 delta3 lr");
}

BOOST_AUTO_TEST_SUITE_END()
