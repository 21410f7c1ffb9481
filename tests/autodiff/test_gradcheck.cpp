// The gradient checker itself: it must pass right gradients and catch wrong ones.
#include <cmath>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/autodiff/op_helpers.hpp>
#include <stepgrad/autodiff/ops.hpp>

using namespace stepgrad;

BOOST_AUTO_TEST_SUITE(gradcheck)

BOOST_AUTO_TEST_CASE(numerical_gradient_of_a_known_function) {
  Tensor x = Tensor::vector({0.5, -1.0, 2.0});
  // L = sum(x^3): dL/dx = 3x^2
  auto loss = [&] { return x[0] * x[0] * x[0] + x[1] * x[1] * x[1] + x[2] * x[2] * x[2]; };
  const Tensor g = numerical_gradient(loss, x, 1e-6);
  BOOST_TEST(std::abs(g[0] - 0.75) < 1e-8);
  BOOST_TEST(std::abs(g[1] - 3.0) < 1e-8);
  BOOST_TEST(std::abs(g[2] - 12.0) < 1e-8);
  BOOST_TEST(x == Tensor::vector({0.5, -1.0, 2.0}));  // restored exactly
}

BOOST_AUTO_TEST_CASE(a_right_gradient_passes_and_a_wrong_one_fails) {
  Tensor x = Tensor::vector({0.3, 0.7, -0.2, 1.1});
  auto loss = [&] {
    double s = 0.0;
    for (double v : x.values()) s += std::sin(v);
    return s;
  };
  Tensor right(x.shape());
  for (std::size_t i = 0; i < x.size(); ++i) right[i] = std::cos(x[i]);
  const GradCheckReport ok = check_gradient("sin", loss, x, right);
  BOOST_TEST(ok.passed, format_report(ok));
  BOOST_TEST(ok.cmp.max_rel < 1e-8);

  Tensor wrong = right;
  wrong[2] *= 1.0 + 1e-5;  // one element off by 10 ppm
  const GradCheckReport bad = check_gradient("sin", loss, x, wrong);
  BOOST_TEST(!bad.passed);
  BOOST_TEST(bad.cmp.worst_rel == 2u);
  BOOST_TEST(format_report(bad).find("FAILED") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sampling_checks_elements_spread_over_the_tensor) {
  Tensor x(Shape::matrix(10, 10), 1.0);
  auto loss = [&] { return x[0] + 2.0 * x[99]; };
  Tensor g(x.shape());
  g[0] = 1.0;
  g[99] = 2.0;
  GradCheckOptions opts;
  opts.max_elements = 10;
  const GradCheckReport r = check_gradient("sampled", loss, x, g, opts);
  BOOST_TEST(r.checked.size() == 10u);
  BOOST_TEST(r.checked.front() == 0u);
  BOOST_TEST(r.checked.back() == 90u);
  BOOST_TEST(r.passed, format_report(r));
}

BOOST_AUTO_TEST_CASE(directional_check_sees_a_wrong_gradient) {
  Tensor a = Tensor::vector({1.0, 2.0});
  Tensor b = Tensor::matrix({{0.5, -0.5}});
  auto loss = [&] { return a[0] * a[1] + std::exp(b[0]) * b[1]; };
  const std::vector<Tensor> grads{Tensor::vector({a[1], a[0]}),
                                  Tensor::matrix({{std::exp(b[0]) * b[1], std::exp(b[0])}})};
  const std::vector<Tensor> u{Tensor::vector({0.3, -0.7}), Tensor::matrix({{0.2, 0.9}})};
  std::vector<Tensor*> xs{&a, &b};
  const DirectionalReport ok = check_direction(loss, xs, grads, u);
  BOOST_TEST(ok.rel_err < 1e-8);
  std::vector<Tensor> off = grads;
  off[1][1] *= 1.01;
  const DirectionalReport bad = check_direction(loss, xs, off, u);
  BOOST_TEST(bad.rel_err > 1e-4);
  BOOST_TEST(a == Tensor::vector({1.0, 2.0}));  // restored
}

namespace {
// x², recorded with a backward rule that is wrong on purpose (3x instead of 2x).
Var wrong_square(Var x) {
  record_map(x, [](double v) { return v * v; });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const Tensor& xv = tape.node(out.a).value();
    accumulate(tape.node(out.a), [&](std::size_t i) { return 3.0 * xv[i] * g[i]; });
  };
  static constexpr OpDef op{.name = "wrong_square", .backward = backward};
  return x.tape().commit(op);
}
}  // namespace

BOOST_AUTO_TEST_CASE(gradcheck_of_parameters_passes_the_tape_and_keeps_the_callers_gradients) {
  Parameter W("W", Tensor::matrix({{0.3, -0.8, 0.5}, {1.1, 0.2, -0.4}}));  // (2, 3)
  Parameter b("b", Tensor::vector({0.1, -0.2}));
  const Tensor X = Tensor::matrix({{1.0, 0.5}, {-1.0, 2.0}, {0.25, -0.5}});  // two samples
  const auto loss = [&](Tape& t) {
    return sum(tanh(add_to_columns(matmul(t.param(W), t.input(X)), t.param(b))));
  };
  Tape tape;
  loss(tape).backward();
  const Tensor W_grad = W.grad(), W_value = W.value;  // the caller's state
  BOOST_TEST(b.has_grad());
  b.zero_grad();  // one Parameter with a gradient, one without
  // stepgrad:: because this suite's own name is gradcheck
  const std::vector<GradCheckReport> reports = stepgrad::gradcheck({&W, &b}, loss);
  BOOST_TEST(reports.size() == 2u);
  BOOST_TEST(reports[0].name == "W");
  for (const GradCheckReport& r : reports) {
    BOOST_TEST(r.passed, format_report(r));
    BOOST_TEST(r.checked.size() == r.analytic.size());
  }
  BOOST_TEST(reports[0].analytic == W_grad);
  BOOST_TEST(W.grad() == W_grad);
  BOOST_TEST(W.value == W_value);
  BOOST_TEST(!b.has_grad());
}

BOOST_AUTO_TEST_CASE(gradcheck_skips_a_frozen_parameter) {
  Parameter W("W", Tensor::matrix({{0.3, -0.8}, {1.1, 0.2}}));
  Parameter b("b", Tensor::vector({0.1, -0.2}));
  b.requires_grad = false;  // frozen: its finite differences are not 0, its gradient is none
  const Tensor X = Tensor::vector({1.0, -0.5});
  const auto loss = [&](Tape& t) {
    return sum(tanh(add_to_columns(matmul(t.param(W), t.input(X)), t.param(b))));
  };
  const std::vector<GradCheckReport> reports = stepgrad::gradcheck({&W, &b}, loss);
  BOOST_REQUIRE(reports.size() == 1u);
  BOOST_TEST(reports[0].name == "W");
  BOOST_TEST(reports[0].passed, format_report(reports[0]));
}

BOOST_AUTO_TEST_CASE(gradcheck_of_parameters_catches_a_wrong_backward_rule) {
  Parameter p("p", Tensor::vector({0.5, -1.5, 2.0}));
  const auto right = [&](Tape& t) {
    const Var x = t.param(p);
    return sum(x * x);
  };
  const auto wrong = [&](Tape& t) { return sum(wrong_square(t.param(p))); };
  BOOST_TEST(stepgrad::gradcheck({&p}, right).at(0).passed);
  const GradCheckReport r = stepgrad::gradcheck({&p}, wrong).at(0);
  BOOST_TEST(!r.passed);
  BOOST_TEST(std::abs(r.cmp.max_rel - 1.0 / 3.0) < 1e-9, format_report(r));  // |3x - 2x| / 3x
}

BOOST_AUTO_TEST_SUITE_END()
