#include "expr.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/nn/deltas.hpp>

namespace stepgrad::labs {

// One node of the parse tree (Note [The expression language]).
struct ExprNode {
  enum class Kind { number, name, call, binary, negate, transpose };
  Kind kind = Kind::number;
  std::size_t column = 0;  // of the token: the name, the operator, the function's name
  double number = 0.0;
  std::string text;  // a name, a function, or the operator as the learner typed it
  char op = 0;       // binary: '+', '-', '*', '/', '@', 'o' (outer)
  std::vector<std::shared_ptr<const ExprNode>> args;
};

namespace {

using Kind = ExprError::Kind;
using NodePtr = std::shared_ptr<const ExprNode>;

// ---- the lexer: UTF-8 in, tokens with their columns out ----

enum class Tok { number, name, lparen, rparen, comma, op, transpose, end };

struct Token {
  Tok tok = Tok::end;
  std::size_t column = 0;
  std::string text;  // as typed (a name normalised: δ3 -> delta3)
  double number = 0.0;
  char op = 0;
};

// The code points of `text`; a byte that is not UTF-8 becomes U+FFFD (an unexpected character).
std::vector<char32_t> decode(std::string_view text) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const std::size_t n = b < 0x80         ? 1
                          : (b >> 5) == 6  ? 2
                          : (b >> 4) == 14 ? 3
                          : (b >> 3) == 30 ? 4
                                           : 0;
    if (n == 0 || i + n > text.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t c = n == 1 ? b : n == 2 ? (b & 0x1Fu) : n == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (std::size_t k = 1; k < n; ++k)
      c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
    out.push_back(c);
    i += n;
  }
  return out;
}

std::string encode(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

bool ascii_alpha(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool digit(char32_t c) { return c >= '0' && c <= '9'; }

// The Greek letters a name may use, and the word each stands for.
const char* greek(char32_t c) {
  switch (c) {
    case U'δ':
      return "delta";
    case U'Δ':
      return "Delta";
    case U'λ':
      return "lr";
    case U'σ':
      return "sigmoid";
    default:
      return nullptr;
  }
}

// The binary operators: the code point and its meaning.
char binary_op(char32_t c) {
  switch (c) {
    case '+':
      return '+';
    case '-':
    case U'−':
      return '-';
    case '*':
    case U'⊙':
      return '*';
    case '/':
      return '/';
    case '@':
    case U'·':
      return '@';
    case U'⊗':
      return 'o';
    default:
      return 0;
  }
}

std::vector<Token> lex(std::string_view text) {
  const std::vector<char32_t> s = decode(text);
  std::vector<Token> out;
  std::size_t i = 0;
  const auto at = [&](std::size_t k) -> char32_t { return k < s.size() ? s[k] : 0; };
  while (i < s.size()) {
    const char32_t c = s[i];
    const std::size_t col = i + 1;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (digit(c) || (c == '.' && digit(at(i + 1)))) {
      std::string num;
      while (digit(at(i)) || at(i) == '.') num += static_cast<char>(s[i++]);
      if ((at(i) == 'e' || at(i) == 'E') &&
          (digit(at(i + 1)) || ((at(i + 1) == '-' || at(i + 1) == '+') && digit(at(i + 2))))) {
        num += static_cast<char>(s[i++]);
        num += static_cast<char>(s[i++]);
        while (digit(at(i))) num += static_cast<char>(s[i++]);
      }
      char* end = nullptr;
      const double v = std::strtod(num.c_str(), &end);
      if (end != num.c_str() + num.size())
        throw ExprError(Kind::syntax, col, fmt::format("'{}' is not a number", num));
      out.push_back({Tok::number, col, num, v, 0});
    } else if (ascii_alpha(c) || greek(c) != nullptr) {
      std::string name;
      while (ascii_alpha(at(i)) || digit(at(i)) || greek(at(i)) != nullptr) {
        const char* g = greek(at(i));
        name += g != nullptr ? std::string(g) : encode(at(i));
        ++i;
      }
      if (at(i) == '\'') {  // sigmoid', σ'
        name += '\'';
        ++i;
      }
      out.push_back({Tok::name, col, name, 0.0, 0});
    } else if ((c == '^' || c == '.') && at(i + 1) == 'T' && !ascii_alpha(at(i + 2)) &&
               !digit(at(i + 2))) {
      out.push_back({Tok::transpose, col, c == '^' ? "^T" : ".T", 0.0, 0});
      i += 2;
    } else if (c == U'ᵀ') {
      out.push_back({Tok::transpose, col, "ᵀ", 0.0, 0});
      ++i;
    } else if (c == '(' || c == ')' || c == ',') {
      out.push_back({c == '('   ? Tok::lparen
                     : c == ')' ? Tok::rparen
                                : Tok::comma,
                     col, std::string(1, static_cast<char>(c)), 0.0, 0});
      ++i;
    } else if (binary_op(c) != 0) {
      out.push_back({Tok::op, col, encode(c), 0.0, binary_op(c)});
      ++i;
    } else if (c == '^') {
      throw ExprError(Kind::syntax, col, "'^' is only for a transpose here: write ^T");
    } else {
      throw ExprError(Kind::syntax, col, fmt::format("unexpected character '{}'", encode(c)));
    }
  }
  out.push_back({Tok::end, s.size() + 1, "", 0.0, 0});
  return out;
}

// ---- the parser: recursive descent, one function per rule of the grammar ----

struct Function {
  const char* name;
  std::size_t arity;
};
constexpr Function kFunctions[] = {
    {"sigmoid", 1},  {"sigmoid'", 1}, {"dsigmoid", 1}, {"softmax", 1}, {"softmax'", 1},
    {"dsoftmax", 1}, {"exp", 1},      {"log", 1},      {"outer", 2},   {"transpose", 1},
};

const Function* find_function(const std::string& name) {
  for (const Function& f : kFunctions)
    if (name == f.name) return &f;
  return nullptr;
}

std::string describe(const Token& t) {
  return t.tok == Tok::end ? "the end" : fmt::format("'{}'", t.text);
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  NodePtr parse() {
    NodePtr e = expr();
    const Token& t = peek();
    if (t.tok == Tok::rparen) throw ExprError(Kind::syntax, t.column, "')' has no matching '('");
    if (t.tok != Tok::end)
      throw ExprError(Kind::syntax, t.column,
                      fmt::format("expected an operator before {}", describe(t)));
    return e;
  }

 private:
  const Token& peek() const { return t_[i_]; }
  const Token& next() { return t_[i_++]; }

  static NodePtr binary(const Token& op, NodePtr a, NodePtr b) {
    auto n = std::make_shared<ExprNode>();
    n->kind = ExprNode::Kind::binary;
    n->column = op.column;
    n->op = op.op;
    n->text = op.text;
    n->args = {std::move(a), std::move(b)};
    return n;
  }

  NodePtr expr() {
    NodePtr a = term();
    while (peek().tok == Tok::op && (peek().op == '+' || peek().op == '-')) {
      const Token& op = next();
      a = binary(op, a, term());
    }
    return a;
  }
  NodePtr term() {
    NodePtr a = unary();
    while (peek().tok == Tok::op && peek().op != '+' && peek().op != '-') {
      const Token& op = next();
      a = binary(op, a, unary());
    }
    return a;
  }
  NodePtr unary() {
    if (peek().tok == Tok::op && peek().op == '-') {
      const Token& op = next();
      auto n = std::make_shared<ExprNode>();
      n->kind = ExprNode::Kind::negate;
      n->column = op.column;
      n->args = {unary()};
      return n;
    }
    NodePtr a = primary();
    while (peek().tok == Tok::transpose) {
      const Token& op = next();
      auto n = std::make_shared<ExprNode>();
      n->kind = ExprNode::Kind::transpose;
      n->column = op.column;
      n->text = op.text;
      n->args = {a};
      a = n;
    }
    return a;
  }
  // The ')' closing the '(' at `open`.
  void close(const Token& open) {
    const Token& t = peek();
    if (t.tok == Tok::end) throw ExprError(Kind::syntax, open.column, "this '(' is never closed");
    if (t.tok != Tok::rparen)
      throw ExprError(Kind::syntax, t.column,
                      fmt::format("expected an operator or ')' before {}", describe(t)));
    next();
  }
  NodePtr primary() {
    const Token& t = next();
    auto n = std::make_shared<ExprNode>();
    n->column = t.column;
    switch (t.tok) {
      case Tok::number:
        n->kind = ExprNode::Kind::number;
        n->number = t.number;
        return n;
      case Tok::lparen: {
        NodePtr inner = expr();
        close(t);
        return inner;
      }
      case Tok::name: {
        n->text = t.text;
        if (peek().tok != Tok::lparen) {
          if (find_function(t.text) != nullptr)
            throw ExprError(Kind::syntax, t.column,
                            fmt::format("{} is a function: write {}(...)", t.text, t.text));
          n->kind = ExprNode::Kind::name;
          return n;
        }
        const Function* f = find_function(t.text);
        if (f == nullptr) {
          std::string known;
          for (const Function& g : kFunctions)
            known += fmt::format("{}{}", known.empty() ? "" : ", ", g.name);
          throw ExprError(Kind::name, t.column,
                          fmt::format("unknown function '{}'; the functions: {}", t.text, known));
        }
        const Token& open = next();
        n->kind = ExprNode::Kind::call;
        n->args.push_back(expr());
        while (peek().tok == Tok::comma) {
          next();
          n->args.push_back(expr());
        }
        close(open);
        if (n->args.size() != f->arity)
          throw ExprError(Kind::syntax, t.column,
                          fmt::format("{} takes {} argument{}, not {}", f->name, f->arity,
                                      f->arity == 1 ? "" : "s", n->args.size()));
        return n;
      }
      case Tok::rparen:
      case Tok::comma:
      case Tok::op:
      case Tok::transpose:
      case Tok::end:
        break;
    }
    throw ExprError(Kind::syntax, t.column,
                    fmt::format("expected a name, a number or '(' here, not {}", describe(t)));
  }

  std::vector<Token> t_;
  std::size_t i_ = 0;
};

// ---- evaluation: the engine's tensor functions ----

[[noreturn]] void shape_error(const ExprNode& n, const Shape& a, const Shape& b,
                              std::string_view why) {
  throw ExprError(Kind::shape, n.column,
                  fmt::format("{}: shapes {} and {} do not fit: {}", n.text, a, b, why));
}

// a + b, a - b, a ⊙ b, a / b (op '+', '-', '*', '/'); a number and a tensor too.
Tensor elementwise(const ExprNode& n, char op, const Tensor& a, const Tensor& b) {
  const auto f = [&](double x, double y) {
    switch (op) {
      case '+':
        return x + y;
      case '-':
        return x - y;
      case '*':
        return x * y;
      default:
        return x / y;
    }
  };
  if (a.rank() == 0) return map(b, [&](double y) { return f(a.item(), y); });
  if (b.rank() == 0) return map(a, [&](double x) { return f(x, b.item()); });
  if (a.shape() != b.shape())
    shape_error(n, a.shape(), b.shape(),
                fmt::format("{} takes two tensors of one shape, or a number and a tensor", n.text));
  Tensor r(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = f(a[i], b[i]);
  return r;
}

Tensor matrix_product(const ExprNode& n, const Tensor& a, const Tensor& b) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  if (sa.rank == 0 || sb.rank == 0) return elementwise(n, '*', a, b);  // lambda · Delta, eq. (12)
  if (sa.rank == 1) {
    // A column (n, 1): only a row (1, m) fits after it, and gives the outer product.
    if (sb.rank == 2 && sb.rows == 1) return outer(a, Tensor::vector(b.values()));
    shape_error(
        n, sa, sb,
        fmt::format("a vector is a column ({}, 1), and (k, 1) · (m, n) needs m = 1", sa.rows));
  }
  if (sa.cols != sb.rows)
    shape_error(
        n, sa, sb,
        fmt::format("the left's columns ({}) are not the right's rows ({})", sa.cols, sb.rows));
  return matmul(a, b);
}

Tensor outer_product(const ExprNode& n, const Tensor& u, const Tensor& v) {
  if (u.rank() != 1 || v.rank() != 1)
    shape_error(n, u.shape(), v.shape(), "the outer product takes two vectors");
  return outer(u, v);
}

Tensor transposed(const Tensor& a) {
  // Note [Column vectors]: a row's transpose is the vector (column) again.
  if (a.rank() == 2 && a.rows() == 1) return Tensor::vector(a.values());
  if (a.rank() == 0) return a;
  return transpose(a);
}

Tensor eval(const ExprNode& n, const std::map<std::string, Tensor>& env) {
  switch (n.kind) {
    case ExprNode::Kind::number:
      return Tensor::scalar(n.number);
    case ExprNode::Kind::name: {
      const auto it = env.find(n.text);
      if (it != env.end()) return it->second;
      std::string known;
      for (const auto& [name, value] : env)
        known += fmt::format("{}{}", known.empty() ? "" : " ", name);
      throw ExprError(Kind::name, n.column,
                      fmt::format("unknown name '{}'; the names here: {}", n.text, known));
    }
    case ExprNode::Kind::negate:
      return -1.0 * eval(*n.args[0], env);
    case ExprNode::Kind::transpose:
      return transposed(eval(*n.args[0], env));
    case ExprNode::Kind::binary: {
      const Tensor a = eval(*n.args[0], env);
      const Tensor b = eval(*n.args[1], env);
      if (n.op == '@') return matrix_product(n, a, b);
      if (n.op == 'o') return outer_product(n, a, b);
      return elementwise(n, n.op, a, b);
    }
    case ExprNode::Kind::call:
      break;
  }
  std::vector<Tensor> x;
  for (const NodePtr& a : n.args) x.push_back(eval(*a, env));
  const std::string& f = n.text;
  if (f == "outer") return outer_product(n, x[0], x[1]);
  if (f == "transpose") return transposed(x[0]);
  if (f == "sigmoid") return map(x[0], [](double v) { return fn::sigmoid(v); });
  if (f == "sigmoid'" || f == "dsigmoid")
    return map(x[0], [](double v) { return fn::sigmoid_prime(v); });
  if (f == "exp") return map(x[0], [](double v) { return std::exp(v); });
  if (f == "log") return map(x[0], [](double v) { return std::log(v); });
  if (x[0].rank() == 0)
    throw ExprError(Kind::shape, n.column, fmt::format("{} takes a vector or a matrix", f));
  if (f == "softmax") return fn::softmax(x[0]);
  return article_softmax_derivative(x[0]);  // softmax', dsoftmax
}

void collect_names(const ExprNode& n, std::vector<std::string>& out) {
  if (n.kind == ExprNode::Kind::name && std::find(out.begin(), out.end(), n.text) == out.end())
    out.push_back(n.text);
  for (const NodePtr& a : n.args) collect_names(*a, out);
}

}  // namespace

Expr Expr::parse(std::string_view text) {
  Expr e;
  e.root_ = Parser(lex(text)).parse();
  return e;
}

std::vector<std::string> Expr::names() const {
  std::vector<std::string> out;
  collect_names(*root_, out);
  return out;
}

Tensor evaluate(const Expr& e, const std::map<std::string, Tensor>& env) {
  return eval(*e.root_, env);
}

std::string format_error(const ExprError& e) {
  return fmt::format("column {}: {}", e.column(), e.what());
}

}  // namespace stepgrad::labs
