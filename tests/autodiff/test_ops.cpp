// Every op: closed forms on hand-picked values, finite differences on random inputs of two
// shapes (R1 in docs/reliability.md), numerics at the extremes (R6-R8), and shape errors.
#include <cfenv>
#include <cmath>
#include <functional>
#include <numbers>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/random.hpp>
#include "common/check.hpp"

using namespace stepgrad;
namespace bdata = boost::unit_test::data;

namespace {

// How to draw an op's inputs: uniform in [lo, hi], optionally kept away from 0 (relu's kink)
// or made a probability vector / one-hot per column (the losses' targets).
enum class Draw { Uniform, AwayFromZero, OneHot, Probability };
struct Input {
  Shape shape;
  double lo, hi;
  Draw draw = Draw::Uniform;
  bool differentiable = true;  // false: recorded with Tape::input
};

struct OpCase {
  std::string name;
  std::vector<Input> inputs;
  std::function<Var(std::vector<Var>&)> apply;
  bool smooth = true;  // R1's max-rel bar applies to smooth ops
};

std::ostream& operator<<(std::ostream& os, const OpCase& c) { return os << c.name; }

Tensor draw(const Input& in, RandomState& rng) {
  Tensor t(in.shape);
  for (double& v : t.values()) {
    v = in.lo + (in.hi - in.lo) * rng.random_sample();
    if (in.draw == Draw::AwayFromZero && std::abs(v) < 0.1) v += v < 0 ? -0.1 : 0.1;
  }
  if (in.draw == Draw::OneHot || in.draw == Draw::Probability) {
    fn::for_each_column(in.shape, [&](std::size_t first, std::size_t stride, std::size_t n) {
      double total = 0.0;
      for (std::size_t k = 0; k < n; ++k) total += t[first + k * stride];
      const std::size_t hot = rng.random_interval(static_cast<std::uint32_t>(n - 1));
      for (std::size_t k = 0; k < n; ++k) {
        double& v = t[first + k * stride];
        v = in.draw == Draw::OneHot ? (k == hot ? 1.0 : 0.0) : v / total;
      }
    });
  }
  return t;
}

Shape vec(std::size_t n) { return Shape::vector(n); }
Shape mat(std::size_t r, std::size_t c) { return Shape::matrix(r, c); }

// Two shapes per op (R1).
std::vector<OpCase> op_cases() {
  std::vector<OpCase> cases;
  auto unary = [&](std::string name, std::function<Var(Var)> f, double lo, double hi,
                   Draw d = Draw::Uniform, bool smooth = true) {
    for (Shape s : {vec(5), mat(3, 4)}) {
      cases.push_back({name + to_string(s),
                       {{s, lo, hi, d}},
                       [f](std::vector<Var>& v) { return f(v[0]); },
                       smooth});
    }
  };
  auto binary = [&](std::string name, std::function<Var(Var, Var)> f) {
    for (Shape s : {vec(5), mat(3, 4)}) {
      cases.push_back({name + to_string(s), {{s, -2, 2}, {s, -2, 2}}, [f](std::vector<Var>& v) {
                         return f(v[0], v[1]);
                       }});
    }
  };
  binary("add", add);
  binary("sub", sub);
  binary("mul", mul);
  binary("dot", dot);
  unary("neg", neg, -2, 2);
  unary(
      "sum", [](Var x) { return sum(x); }, -2, 2);
  unary("exp", stepgrad::exp, -2, 2);
  unary("log", stepgrad::log, 0.5, 3);
  unary("sigmoid", sigmoid, -4, 4);
  unary("tanh", stepgrad::tanh, -2, 2);
  unary("relu", relu, -2, 2, Draw::AwayFromZero, false);
  unary("softmax", softmax, -3, 3);
  unary("log_softmax", log_softmax, -3, 3);
  unary(
      "scale", [](Var x) { return scale(x, -1.5); }, -2, 2);
  unary(
      "rsub", [](Var x) { return rsub(1.0, x); }, -2, 2);
  for (Shape s : {vec(5), mat(3, 4)}) {
    cases.push_back({"binary_cross_entropy" + to_string(s),
                     {{s, 0.05, 0.95}, {s, 0, 1}},
                     [](std::vector<Var>& v) { return binary_cross_entropy(v[0], v[1]); }});
    cases.push_back({"cross_entropy_logits" + to_string(s),
                     {{s, -3, 3}, {s, 0, 1, Draw::Probability}},
                     [](std::vector<Var>& v) { return cross_entropy_logits(v[0], v[1]); }});
    cases.push_back({"cross_entropy_logits_one_hot" + to_string(s),
                     {{s, -3, 3}, {s, 0, 1, Draw::OneHot, false}},
                     [](std::vector<Var>& v) { return cross_entropy_logits(v[0], v[1]); }});
  }
  cases.push_back({"matmul(3, 4)·(4,)",
                   {{mat(3, 4), -2, 2}, {vec(4), -2, 2}},
                   [](std::vector<Var>& v) { return matmul(v[0], v[1]); }});
  cases.push_back({"matmul(3, 4)·(4, 2)",
                   {{mat(3, 4), -2, 2}, {mat(4, 2), -2, 2}},
                   [](std::vector<Var>& v) { return matmul(v[0], v[1]); }});
  cases.push_back({"outer(3,)⊗(4,)", {{vec(3), -2, 2}, {vec(4), -2, 2}}, [](std::vector<Var>& v) {
                     return outer(v[0], v[1]);
                   }});
  cases.push_back({"outer(5,)⊗(2,)", {{vec(5), -2, 2}, {vec(2), -2, 2}}, [](std::vector<Var>& v) {
                     return outer(v[0], v[1]);
                   }});
  cases.push_back({"add_to_columns(3, 4)+(3,)",
                   {{mat(3, 4), -2, 2}, {vec(3), -2, 2}},
                   [](std::vector<Var>& v) { return add_to_columns(v[0], v[1]); }});
  cases.push_back({"add_to_columns(3,)+(3,)",
                   {{vec(3), -2, 2}, {vec(3), -2, 2}},
                   [](std::vector<Var>& v) { return add_to_columns(v[0], v[1]); }});
  return cases;
}

// L = <P, op(inputs)> for a fixed random P: every output element matters, with its own weight.
struct Projected {
  std::vector<Tensor> xs;
  Tensor p;
  double loss(const OpCase& c, std::vector<Tensor>* grads) {
    Tape t;
    std::vector<Var> vars;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      vars.push_back(c.inputs[k].differentiable ? t.variable(xs[k]) : t.input(xs[k]));
    }
    const Var out = c.apply(vars);
    if (p.shape() != out.shape()) {
      RandomState rng(99);
      p = Tensor(out.shape());
      for (double& v : p.values()) v = 2.0 * rng.random_sample() - 1.0;
    }
    const Var l = dot(out, t.input(p));
    if (grads != nullptr) {
      t.backward(l);
      grads->clear();
      for (const Var& v : vars) grads->push_back(v.grad());
    }
    return l.value().item();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ops)

BOOST_DATA_TEST_CASE(every_op_matches_finite_differences,
                     bdata::make(op_cases()) * bdata::make(std::vector<int>{0, 1}), c, seed) {
  RandomState rng(static_cast<std::uint32_t>(seed + 1));
  Projected f;
  for (const Input& in : c.inputs) f.xs.push_back(draw(in, rng));
  std::vector<Tensor> grads;
  f.loss(c, &grads);
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    if (!c.inputs[k].differentiable) continue;
    const GradCheckReport r = check_gradient(
        fmt::format("{} input {}", c.name, k), [&] { return f.loss(c, nullptr); }, f.xs[k],
        grads[k]);
    // R1: allclose with PyTorch gradcheck's tolerances, and max rel <= 1e-7 for smooth ops.
    BOOST_TEST(allclose(r.analytic, r.numeric, 1e-5, 1e-3), format_report(r));
    if (c.smooth) BOOST_TEST(r.passed, format_report(r));
  }
}

BOOST_AUTO_TEST_CASE(closed_forms_on_hand_picked_values) {
  Tape t;
  const Var a = t.variable(Tensor::matrix({{1, 2}, {3, 4}}), "A");
  const Var b = t.variable(Tensor::vector({1, -1}), "b");
  const Var ab = matmul(a, b);
  BOOST_TEST(testing::identical(ab.value(), Tensor::vector({-1, -1})));
  t.backward(ab, Tensor::vector({1, 2}));
  BOOST_TEST(testing::identical(a.grad(), Tensor::matrix({{1, -1}, {2, -2}})));  // g ⊗ b
  BOOST_TEST(testing::identical(b.grad(), Tensor::vector({7, 10})));             // A^T g

  Tape u;
  const Var z = u.variable(Tensor::vector({0, 0}), "z");
  const Var s = sigmoid(z);
  BOOST_TEST(testing::identical(s.value(), Tensor::vector({0.5, 0.5})));
  u.backward(sum(s));
  BOOST_TEST(testing::identical(z.grad(), Tensor::vector({0.25, 0.25})));

  Tape v;
  const Var logits = v.variable(Tensor::vector({0, 0}), "z");
  const Var ce = cross_entropy_logits(logits, v.input(Tensor::vector({1, 0})));
  BOOST_TEST(ce.value().item() == std::log(2.0));
  v.backward(ce);
  BOOST_TEST(testing::identical(logits.grad(), Tensor::vector({-0.5, 0.5})));  // O - Y

  Tape w;
  const Var o = w.variable(Tensor::vector({0.5}), "o");
  const Var bce = binary_cross_entropy(o, w.input(Tensor::vector({1})));
  BOOST_TEST(bce.value().item() == std::log(2.0));
  w.backward(bce);
  BOOST_TEST(testing::identical(o.grad(), Tensor::vector({-2})));  // -y/o

  Tape x;
  const Var p = x.variable(Tensor::vector({std::log(1.0), std::log(2.0), std::log(5.0)}), "p");
  BOOST_TEST(testing::close(softmax(p).value(), Tensor::vector({0.125, 0.25, 0.625}), 1e-15));
  BOOST_TEST(testing::close(exp(p).value(), Tensor::vector({1, 2, 5}), 1e-15));
  BOOST_TEST(testing::identical(relu(x.variable(Tensor::vector({-1, 0, 2}))).value(),
                                Tensor::vector({0, 0, 2})));
  BOOST_TEST(tanh(x.variable(Tensor::vector({0}))).value()[0] == 0.0);
  BOOST_TEST(log(x.variable(Tensor::vector({std::numbers::e}))).value()[0] == 1.0);
  BOOST_TEST(testing::identical(outer(b, b).value(), Tensor::matrix({{1, -1}, {-1, 1}})));
}

BOOST_AUTO_TEST_CASE(softmax_of_huge_logits_is_finite_and_sums_to_one) {
  for (const Tensor& z :
       {Tensor::vector({1000, 0, -1000}), Tensor::vector({1e300, 0}),
        Tensor::vector({-1e300, -1e300}), Tensor::matrix({{1000, 1}, {0, 2}, {-1000, 3}})}) {
    Tape t;
    const Var zv = t.variable(z, "z");
    const Var s = softmax(zv);
    BOOST_TEST(all_finite(s.value()));
    fn::for_each_column(z.shape(), [&](std::size_t first, std::size_t stride, std::size_t n) {
      double total = 0.0;
      for (std::size_t k = 0; k < n; ++k) total += s.value()[first + k * stride];
      BOOST_TEST(std::abs(total - 1.0) <= 1e-15);
    });
    t.backward(dot(s, t.input(Tensor(z.shape(), 1.0))));
    BOOST_TEST(all_finite(zv.grad()));
  }
}

BOOST_AUTO_TEST_CASE(log_softmax_is_z_minus_logsumexp) {
  Tape t;
  const Tensor z = Tensor::vector({1000, 0, -1000});
  const Var zv = t.variable(z, "z");
  const Var l = log_softmax(zv);
  // logsumexp = 1000 + log(1 + e^-1000 + e^-2000) = 1000 in double
  BOOST_TEST(testing::identical(l.value(), Tensor::vector({0, -1000, -2000})));
  const Tensor small = Tensor::vector({0.5, -1.5, 2.0});
  const double lse = std::log(std::exp(0.5) + std::exp(-1.5) + std::exp(2.0));
  BOOST_TEST(testing::close(log_softmax(t.variable(small)).value(),
                            small - Tensor(small.shape(), lse), 1e-15));
  t.backward(sum(l));
  BOOST_TEST(all_finite(zv.grad()));
}

BOOST_AUTO_TEST_CASE(cross_entropy_never_returns_inf_or_nan) {
  Tape t;
  // probabilities of exactly 0 and 1: each clamped log contributes at most 100 (R7)
  const Var o = t.variable(Tensor::vector({0, 1, 1, 0}), "o");
  const Var bce = binary_cross_entropy(o, t.input(Tensor::vector({1, 0, 1, 0})));
  BOOST_TEST(bce.value().item() == 200.0);
  t.backward(bce);
  BOOST_TEST(all_finite(o.grad()));
  const Var z = t.variable(Tensor::vector({1000, -1000}), "z");
  const Var ce = cross_entropy_logits(z, t.input(Tensor::vector({0, 1})));
  BOOST_TEST(ce.value().item() == 2000.0);
  t.backward(ce);
  BOOST_TEST(testing::identical(z.grad(), Tensor::vector({1, -1})));
}

BOOST_AUTO_TEST_CASE(sigmoid_of_extreme_inputs_is_finite_without_overflow) {
  std::feclearexcept(FE_ALL_EXCEPT);
  Tape t;
  const Var x = t.variable(Tensor::vector({-1e4, -800, -40, 0, 40, 800, 1e4}), "x");
  const Var s = sigmoid(x);
  t.backward(sum(s));
  BOOST_TEST(!std::fetestexcept(FE_OVERFLOW));  // R8: e^-x never overflows
  for (double v : s.value().values()) BOOST_TEST((v >= 0.0 && v <= 1.0));
  BOOST_TEST(s.value()[0] == 0.0);
  BOOST_TEST(s.value()[6] == 1.0);
  BOOST_TEST(all_finite(x.grad()));
}

BOOST_AUTO_TEST_CASE(shape_errors_name_the_op_and_both_shapes) {
  Tape t;
  const Var m = t.variable(Tensor::zeros(2, 3), "m");
  const Var v = t.variable(Tensor::zeros(2), "v");
  try {
    matmul(m, v);
    BOOST_FAIL("matmul accepted (2, 3) · (2,)");
  } catch (const ShapeError& e) {
    BOOST_TEST(std::string(e.what()) ==
               "matmul: shapes (2, 3) and (2,) do not fit: need (m, k) · (k, n) or (m, k) · (k,)");
  }
  BOOST_CHECK_THROW(add(m, v), ShapeError);
  BOOST_CHECK_THROW(mul(m, v), ShapeError);
  BOOST_CHECK_THROW(dot(m, v), ShapeError);
  BOOST_CHECK_THROW(outer(m, v), ShapeError);
  BOOST_CHECK_THROW(add_to_columns(m, t.variable(Tensor::zeros(3))), ShapeError);
  BOOST_CHECK_THROW(cross_entropy_logits(v, t.input(Tensor::zeros(3))), ShapeError);
  BOOST_CHECK_THROW(binary_cross_entropy(v, t.input(Tensor::zeros(3))), ShapeError);
  BOOST_CHECK_THROW(softmax(t.variable(Tensor::scalar(1))), ShapeError);
}

// Note [Rules as text]: every op says its backward rule, one line per input, and its numbers add
// up to the very gradient its backward code gives that input.
BOOST_AUTO_TEST_CASE(every_op_states_its_backward_rule_and_its_numbers_are_the_gradient) {
  RandomState r(7);
  const Tensor v = Tensor::vector({0.2, 0.7, 0.45});  // (3,) in (0, 1): fits log and the losses
  const Tensor w = Tensor::vector({0.9, -0.3, 0.6});
  const Tensor m = r.randn(2, 3);
  const Tensor m2 = r.randn(3, 2);
  const Tensor onehot = Tensor::vector({0, 1, 0});
  using Unary = std::function<Var(Var)>;
  using Binary = std::function<Var(Var, Var)>;
  struct Case {
    std::string_view op;
    Tensor a, b;  // b empty (size 0 shape) for a unary op
    Unary unary;
    Binary binary;
  };
  const std::vector<Case> cases{
      {"exp", v, {}, [](Var x) { return exp(x); }, {}},
      {"log", v, {}, [](Var x) { return log(x); }, {}},
      {"sigmoid", v, {}, [](Var x) { return sigmoid(x); }, {}},
      {"tanh", v, {}, [](Var x) { return tanh(x); }, {}},
      {"relu", m, {}, [](Var x) { return relu(x); }, {}},
      {"softmax", m, {}, [](Var x) { return softmax(x); }, {}},
      {"log_softmax", m, {}, [](Var x) { return log_softmax(x); }, {}},
      {"scale", v, {}, [](Var x) { return scale(x, 2.5); }, {}},
      {"neg", v, {}, [](Var x) { return neg(x); }, {}},
      {"rsub", v, {}, [](Var x) { return rsub(1.0, x); }, {}},
      {"sum", m, {}, [](Var x) { return sum(x); }, {}},
      {"matmul", m, v, {}, [](Var a, Var b) { return matmul(a, b); }},
      {"matmul", m, m2, {}, [](Var a, Var b) { return matmul(a, b); }},
      {"add", v, w, {}, [](Var a, Var b) { return add(a, b); }},
      {"sub", v, w, {}, [](Var a, Var b) { return sub(a, b); }},
      {"mul", v, w, {}, [](Var a, Var b) { return mul(a, b); }},
      {"dot", v, w, {}, [](Var a, Var b) { return dot(a, b); }},
      {"outer", v, Tensor::vector({0.5, -1.5}), {}, [](Var a, Var b) { return outer(a, b); }},
      {"add_to_columns",
       m,
       Tensor::vector({1, -2}),
       {},
       [](Var a, Var b) { return add_to_columns(a, b); }},
      {"binary_cross_entropy",
       v,
       onehot,
       {},
       [](Var a, Var b) { return binary_cross_entropy(a, b); }},
      {"cross_entropy_logits",
       v,
       onehot,
       {},
       [](Var a, Var b) { return cross_entropy_logits(a, b); }},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.op << " of " << to_string(c.a.shape())) {
      Tape t;
      const Var a = t.variable(c.a, "a");
      const bool binary = static_cast<bool>(c.binary);
      const Var b = binary ? t.variable(c.b, "b") : Var();
      const Var out = (binary ? c.binary(a, b) : c.unary(a)).named("out");
      const OpDef& op = *out.node().op;
      BOOST_TEST(op.name == c.op);
      BOOST_TEST(!op.rule[0].empty());
      BOOST_TEST(op.rule[1].empty() == !binary);  // one line per input
      BOOST_REQUIRE(op.numbers != nullptr);
      BOOST_TEST(t.rule(out.index(), 0).starts_with("grad a += "));
      if (binary) BOOST_TEST(t.rule(out.index(), 1).starts_with("grad b += "));
      // A seed that varies by element: with a constant one, softmax's true gradient is
      // rounding noise and the comparison below would test nothing.
      Tensor seed = out.value();
      for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = 0.75 - 0.5 * static_cast<double>(i);
      t.backward(out, seed);
      for (int k = 0; k < (binary ? 2 : 1); ++k) {
        const RuleNumbers n = op.numbers(t, out.node(), k);
        BOOST_TEST(!n.pattern.empty());
        BOOST_TEST(testing::close(n.result, (k == 0 ? a : b).grad(), 1e-14), "input " << k);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
