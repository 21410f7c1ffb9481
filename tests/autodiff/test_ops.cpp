// Every op: finite differences on random inputs of two shapes (R1 in docs/reliability.md), its
// rule in words and its numbers, its row of docs/ops.md (all from Note [The op registry]); closed
// forms on hand-picked values, numerics at the extremes (R6-R8), and shape errors.
#include <cfenv>
#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/ranges.h>
#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/autodiff/op_helpers.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/random.hpp>
#include "common/check.hpp"

using namespace stepgrad;

namespace {

// One test case of a registered op (Note [The op registry] in op_helpers.hpp): one shape per
// input, each input drawn from its Domain.
struct OpCase {
  const OpCheck* check;
  std::vector<Shape> shapes;
};

std::ostream& operator<<(std::ostream& os, const OpCase& c) {
  os << c.check->name;
  for (const Shape& s : c.shapes) os << to_string(s);
  return os;
}

Tensor draw(const Domain& in, const Shape& shape, RandomState& rng) {
  Tensor t(shape);
  for (double& v : t.values()) {
    v = in.lo + (in.hi - in.lo) * rng.random_sample();
    if (in.draw == Draw::AwayFromZero && std::abs(v) < 0.1) v += v < 0 ? -0.1 : 0.1;
  }
  if (in.draw == Draw::OneHot || in.draw == Draw::Probability) {
    fn::for_each_column(shape, [&](std::size_t first, std::size_t stride, std::size_t n) {
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

// Every registered op's test cases: its own shapes, or every input (5,), then (3, 4) (R1).
std::vector<OpCase> op_cases() {
  std::vector<OpCase> cases;
  for (const OpCheck& c : registered_ops()) {
    std::vector<std::vector<Shape>> shapes = c.shapes;
    if (shapes.empty()) {
      for (const Shape& s : {Shape::vector(5), Shape::matrix(3, 4)})
        shapes.emplace_back(c.inputs.size(), s);
    }
    for (const std::vector<Shape>& s : shapes) cases.push_back({&c, s});
  }
  return cases;
}

// The inputs of a case drawn from their domains, recorded on t as a and b.
std::vector<Var> record_inputs(Tape& t, const OpCase& c, RandomState& rng) {
  std::vector<Var> vars;
  for (std::size_t k = 0; k < c.shapes.size(); ++k) {
    const Domain& d = c.check->inputs[k];
    const Tensor x = draw(d, c.shapes[k], rng);
    const std::string_view name = k == 0 ? "a" : "b";
    vars.push_back(d.differentiable ? t.variable(x, name) : t.input(x, name));
  }
  return vars;
}

// L = <P, op(inputs)> for a fixed random P: every output element matters, with its own weight.
struct Projected {
  std::vector<Tensor> xs;
  Tensor p;
  double loss(const OpCase& c, std::vector<Tensor>* grads) {
    Tape t;
    std::vector<Var> vars;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      vars.push_back(c.check->inputs[k].differentiable ? t.variable(xs[k]) : t.input(xs[k]));
    }
    const Var out = c.check->apply(vars);
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

// Every registered op (R1), so every op of autodiff/ops.hpp (every_op_of_ops_hpp_is_registered).
BOOST_AUTO_TEST_CASE(every_op_matches_finite_differences) {
  const std::vector<OpCase> cases = op_cases();
  BOOST_TEST(cases.size() >= 2 * registered_ops().size());
  for (const OpCase& c : cases) {
    for (int seed : {0, 1}) {
      BOOST_TEST_CONTEXT(c << ", seed " << seed) {
        RandomState rng(static_cast<std::uint32_t>(seed + 1));
        Projected f;
        for (std::size_t k = 0; k < c.shapes.size(); ++k)
          f.xs.push_back(draw(c.check->inputs[k], c.shapes[k], rng));
        std::vector<Tensor> grads;
        f.loss(c, &grads);
        for (std::size_t k = 0; k < c.shapes.size(); ++k) {
          if (!c.check->inputs[k].differentiable) continue;
          const GradCheckReport r = check_gradient(
              fmt::format("{} input {}", c.check->name, k), [&] { return f.loss(c, nullptr); },
              f.xs[k], grads[k]);
          // R1: allclose with PyTorch gradcheck's tolerances, and max rel <= 1e-7 for smooth ops.
          BOOST_TEST(allclose(r.analytic, r.numeric, 1e-5, 1e-3), format_report(r));
          if (c.check->smooth) BOOST_TEST(r.passed, format_report(r));
        }
      }
    }
  }
}

// issue 26: the ops a learner reaches for first, on values worked out by hand.
BOOST_AUTO_TEST_CASE(mean_square_and_mse_loss_on_hand_picked_values) {
  Tape t;
  const Var x = t.variable(Tensor::matrix({{1, 2}, {3, -2}}), "x");
  const Var m = mean(x);
  BOOST_TEST(m.value().item() == 1.0);  // (1 + 2 + 3 - 2) / 4
  t.backward(m);
  BOOST_TEST(testing::identical(x.grad(), Tensor(x.shape(), 0.25)));  // 1 / n each

  Tape u;
  const Var v = u.variable(Tensor::vector({3, -2, 0}), "v");
  const Var sq = square(v);
  BOOST_TEST(testing::identical(sq.value(), Tensor::vector({9, 4, 0})));
  u.backward(sum(sq));
  BOOST_TEST(testing::identical(v.grad(), Tensor::vector({6, -4, 0})));  // 2 v

  Tape w;
  const Var o = w.variable(Tensor::vector({1, 2, 4, 3}), "o");
  const Var y = w.variable(Tensor::vector({1, 0, 1, 3}), "y");
  const Var l = mse_loss(o, y);
  BOOST_TEST(l.value().item() == 3.25);  // (0 + 4 + 9 + 0) / 4
  BOOST_TEST(mse(o, y).value().item() == 3.25);
  w.backward(l);
  BOOST_TEST(testing::identical(o.grad(), Tensor::vector({0, 1, 1.5, 0})));  // 2 (o - y) / 4
  BOOST_TEST(testing::identical(y.grad(), Tensor::vector({0, -1, -1.5, 0})));
  BOOST_CHECK_THROW(mse_loss(o, w.input(Tensor::vector({1, 2}))), ShapeError);
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

// fn::tanh (Note [One tanh for the page and the programs], R54): its own algorithm, so its
// accuracy is checked here, against long double's tanhl (64-bit mantissa: 11 bits more than a
// double), on 200,000 arguments spread as a network's pre-activations and over every magnitude;
// and its special values. 2.1 ulps: musl's algorithm errs up to 2 ulps in [0.1, 0.2554] (its
// comment), and 2.003 at x = 0x1.f3abf2ba3ccp-3 here, as glibc's own tanh there.
// tests/web/libm_bits.py checks that WebAssembly gives the same bits.
BOOST_AUTO_TEST_CASE(fn_tanh_is_within_two_ulps_and_odd) {
  RandomState rng(11);
  double worst = 0.0;
  for (int i = 0; i < 200000; ++i) {
    const double u = rng.random_sample();
    const double x =
        i % 2 == 0 ? 40.0 * u - 20.0 : std::ldexp(1.0 + u, -60 + i % 66) * (i % 4 == 1 ? 1 : -1);
    const double t = fn::tanh(x);
    const long double exact = std::tanh(static_cast<long double>(x));
    const double ulp = std::nextafter(std::abs(static_cast<double>(exact)), INFINITY) -
                       std::abs(static_cast<double>(exact));
    worst = std::max(worst, static_cast<double>(std::abs(t - exact)) / ulp);
    BOOST_TEST(fn::tanh(-x) == -t);  // odd, to the bit
  }
  BOOST_TEST(worst < 2.1, "fn::tanh is " << worst << " ulps from tanhl");
  BOOST_TEST(fn::tanh(0.0) == 0.0);
  BOOST_TEST(std::signbit(fn::tanh(-0.0)));
  BOOST_TEST(fn::tanh(1e-310) == 1e-310);  // subnormal: tanh x = x
  BOOST_TEST(fn::tanh(20.5) == 1.0);
  BOOST_TEST(fn::tanh(-INFINITY) == -1.0);
  BOOST_TEST(fn::tanh(INFINITY) == 1.0);
  BOOST_TEST(std::isnan(fn::tanh(NAN)));
  // the tape's op and the networks' activation are this function
  Tape t;
  BOOST_TEST(tanh(t.input(Tensor::vector({0.3}))).value()[0] == fn::tanh(0.3));
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

BOOST_AUTO_TEST_CASE(softplus_of_extreme_inputs_is_finite_without_overflow) {
  std::feclearexcept(FE_ALL_EXCEPT);
  Tape t;
  const Var x = t.variable(Tensor::vector({-1e4, -800, 0, 800, 1e4}), "x");
  const Var y = softplus(x);
  t.backward(sum(y));
  BOOST_TEST(!std::fetestexcept(FE_OVERFLOW));  // log(1 + e^x) never computes e^x
  BOOST_TEST(testing::identical(y.value(), Tensor::vector({0, 0, std::log(2.0), 800, 1e4})));
  BOOST_TEST(testing::identical(x.grad(), Tensor::vector({0, 0, 0.5, 1, 1})));  // sigmoid(x)
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
  for (const OpCase& c : op_cases()) {
    BOOST_TEST_CONTEXT(c) {
      RandomState rng(7);
      Tape t;
      const std::vector<Var> in = record_inputs(t, c, rng);
      const Var out = c.check->apply(in).named("out");
      const OpDef& op = *out.node().op;
      BOOST_TEST(op.name == c.check->name);
      for (std::size_t k = 0; k < 2; ++k) {  // one line per input
        BOOST_TEST(op.rule[k].empty() == (k >= in.size()), "rule " << k);
        if (k < in.size()) {
          BOOST_TEST(t.rule(out.index(), static_cast<int>(k))
                         .starts_with(k == 0 ? "grad a += " : "grad b += "));
        }
      }
      BOOST_REQUIRE(op.numbers != nullptr);
      // A seed that varies by element: with a constant one, softmax's true gradient is
      // rounding noise and the comparison below would test nothing.
      Tensor seed = out.value();
      for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = 0.75 - 0.5 * static_cast<double>(i);
      t.backward(out, seed);
      for (std::size_t k = 0; k < in.size(); ++k) {
        if (!in[k].requires_grad()) continue;
        const RuleNumbers n = op.numbers(t, out.node(), static_cast<int>(k));
        BOOST_TEST(!n.pattern.empty());
        BOOST_TEST(testing::close(n.result, in[k].grad(), 1e-14), "input " << k);
      }
    }
  }
}

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path << " (the test runs in the source tree)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The `code spans` of a piece of markdown, in order.
std::vector<std::string> code_spans(std::string_view text) {
  std::vector<std::string> spans;
  for (std::size_t at = text.find('`'); at != std::string_view::npos;) {
    const std::size_t end = text.find('`', at + 1);
    if (end == std::string_view::npos) break;
    spans.emplace_back(text.substr(at + 1, end - at - 1));
    at = text.find('`', end + 1);
  }
  return spans;
}

// The cells of a table row "| a | b |", split at the bars outside code spans.
std::vector<std::string> cells(std::string_view row) {
  std::vector<std::string> out;
  std::string cell;
  bool code = false;
  for (std::size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '`') code = !code;
    if (row[i] == '|' && !code && row[i - 1] != '\\') {
      out.push_back(cell);
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  return out;
}

// The OpDef of a registered op: the definition of the node it records.
const OpDef& definition(const OpCheck& c) {
  RandomState rng(1);
  Tape t;
  const OpCase one{&c, c.shapes.empty() ? std::vector<Shape>(c.inputs.size(), Shape::vector(3))
                                        : c.shapes.front()};
  return *c.apply(record_inputs(t, one, rng)).node().op;
}

}  // namespace

// docs/ops.md has one row per op, and its third column holds the op's rule in words, one `code
// span` per input starting "grad ", exactly as the OpDef says it: a new op without its row, or a
// rule that says something else than the table, fails here.
// docs/ops.md and its Chinese edition, docs/zh/ops.md: the same rows, the rules word for word.
BOOST_AUTO_TEST_CASE(docs_ops_md_has_each_ops_rule_in_words) {
  for (const char* page : {"docs/ops.md", "docs/zh/ops.md"}) {
    BOOST_TEST_CONTEXT(page) {
      std::map<std::string, std::vector<std::string>> rows;  // op -> the rule lines of its row
      std::istringstream table(read_text(page));
      for (std::string line; std::getline(table, line);) {
        if (!line.starts_with("| `")) continue;
        const std::vector<std::string> row = cells(line);
        BOOST_REQUIRE_MESSAGE(row.size() >= 3, page << ": a row without 3 columns: " << line);
        const std::string first = code_spans(row[0]).front();
        const std::string op = first.substr(0, first.find('('));
        BOOST_TEST(!rows.contains(op), page << ": two rows for " << op);
        rows[op].clear();
        for (const std::string& span : code_spans(row[2]))
          if (span.starts_with("grad ")) rows[op].push_back(span);
      }
      std::set<std::string> registered;
      for (const OpCheck& c : registered_ops()) {
        const std::string name(c.name);
        if (!registered.insert(name).second) continue;  // an op may register several checks
        BOOST_TEST_CONTEXT("op " << name) {
          BOOST_TEST(rows.contains(name), page << " has no row for " << name);
          if (!rows.contains(name)) continue;
          std::vector<std::string> rule;
          for (std::string_view r : definition(c).rule)
            if (!r.empty()) rule.emplace_back(r);
          BOOST_TEST(rows[name] == rule,
                     fmt::format("{}'s row says `{}`, the OpDef of {} says `{}`", page,
                                 fmt::join(rows[name], "`; `"), name, fmt::join(rule, "`; `")));
        }
      }
      for (const auto& [op, rule] : rows)
        BOOST_TEST(registered.contains(op),
                   page << " has a row for " << op << ", no op registers it");
    }
  }
}

// Each `Var name(` of autodiff/ops.hpp registers a check (Note [The op registry]), so the tests
// above cover it.
BOOST_AUTO_TEST_CASE(every_op_of_ops_hpp_is_registered) {
  std::set<std::string> registered;
  for (const OpCheck& c : registered_ops()) registered.emplace(c.name);
  std::istringstream header(read_text("autodiff/ops.hpp"));
  int declared = 0;
  for (std::string line; std::getline(header, line);) {
    if (!line.starts_with("Var ")) continue;
    const std::string name = line.substr(4, line.find('(') - 4);
    ++declared;
    BOOST_TEST(registered.contains(name), name << " is declared in autodiff/ops.hpp but registers "
                                                  "no check (Note [The op registry])");
  }
  BOOST_TEST(declared >= 20);
}

BOOST_AUTO_TEST_SUITE_END()
