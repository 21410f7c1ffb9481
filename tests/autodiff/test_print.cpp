// Printing: numpy-style summaries, statistics, and side-by-side comparisons.
#include <cmath>
#include <cstdio>
#include <string>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/autodiff/random.hpp>

using namespace stepgrad;

namespace stepgrad::testing {
std::string format_with_ops_hpp_only(const Tensor& t);  // format_with_ops_hpp.cpp
}

BOOST_AUTO_TEST_SUITE(print)

BOOST_AUTO_TEST_CASE(small_tensors_print_whole_in_fixed_notation) {
  BOOST_TEST(fmt::format("{}", Tensor::matrix({{1, -2}, {3, 4}})) ==
             "tensor(2, 2)\n[[ 1.0000 -2.0000]\n [ 3.0000  4.0000]]");
  BOOST_TEST(fmt::format("{:.2}", Tensor::vector({0.5, 0.25})) == "tensor(2,)\n[0.50 0.25]");
  BOOST_TEST(fmt::format("{}", Tensor::scalar(2.302585)) == "tensor()\n2.3026");
  BOOST_TEST(format_values(Tensor::vector({-0.0, 1})) == "[0.0000 1.0000]");
}

BOOST_AUTO_TEST_CASE(big_tensors_are_summarised_with_edge_items) {
  RandomState r(42);
  const Tensor w = r.randn(128, 784);
  const std::string want =
      "tensor(128, 784)\n"
      "[[ 0.4967 -0.1383  0.6477 ... -1.3353  0.3802  0.6106]\n"
      " [ 0.5598  1.0808  0.8339 ... -0.2813  0.0670  0.5159]\n"
      " [-1.5625 -0.5291  0.7943 ... -0.3920  1.0599  0.6170]\n"
      " ...\n"
      " [-0.3011 -0.5932  1.4701 ...  1.7072 -0.1408  0.9466]\n"
      " [ 0.8222  0.6447 -0.2278 ... -1.7391 -0.3240 -0.6089]\n"
      " [ 1.6801 -0.1914 -0.6431 ...  1.2295  1.6110  1.3886]]";
  BOOST_TEST(fmt::format("{}", w) == want);
  // the first 200 of np.random.RandomState(42).randn(...) end in 0.15372511 0.05820872 -1.1429703
  const Tensor v = Tensor::vector(std::span<const double>(w.data(), 200));
  BOOST_TEST(format_values(v) == "[ 0.4967 -0.1383  0.6477 ...  0.1537  0.0582 -1.1430]");
  PrintOptions full;
  full.summarise = false;
  BOOST_TEST(format_values(v, full).find("...") == std::string::npos);
  BOOST_TEST(fmt::format("{:a}", v).find("...") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(scientific_notation_when_magnitudes_differ_as_numpy_decides) {
  BOOST_TEST(format_values(Tensor::vector({1e-5, 0.5, -3})) ==
             "[ 1.0000e-05  5.0000e-01 -3.0000e+00]");
  BOOST_TEST(format_values(Tensor::vector({1e9})) == "[1.0000e+09]");
  BOOST_TEST(format_values(Tensor::vector({1, 999})) == "[  1.0000 999.0000]");
  BOOST_TEST(format_values(Tensor::vector({1, 1001})) == "[1.0000e+00 1.0010e+03]");
  BOOST_TEST(format_values(Tensor::vector({std::nan(""), -INFINITY, 1})) ==
             "[   nan   -inf 1.0000]");
}

BOOST_AUTO_TEST_CASE(long_rows_wrap_at_the_line_width) {
  const std::string text = format_values(Tensor(Shape::vector(30), 0.5));
  for (std::size_t start = 0, end = 0; end != std::string::npos; start = end + 1) {
    end = text.find('\n', start);
    BOOST_TEST((end == std::string::npos ? text.size() : end) - start <= 100u);
  }
  BOOST_TEST(text.find('\n') != std::string::npos);
}

BOOST_AUTO_TEST_CASE(summary_reports_statistics_and_non_finite_values) {
  BOOST_TEST(summary(Tensor::vector({3, -4})) == "(2,) min -4 max 3 mean -0.5 norm 5");
  BOOST_TEST(summary(Tensor::vector({1, NAN, INFINITY})) ==
             "(3,) min 1 max 1 mean 1 norm 1 NaN 1 Inf 1");
  const TensorStats s = stats(Tensor::matrix({{1, 2}, {3, 4}}));
  BOOST_TEST(s.mean == 2.5);
  BOOST_TEST(s.norm == std::sqrt(30.0));
}

BOOST_AUTO_TEST_CASE(compare_finds_the_worst_elements) {
  const Tensor a = Tensor::matrix({{1, 2, 3}, {4, 5, 6}});
  Tensor b = a;
  b(1, 2) += 0.6;  // largest absolute difference
  b(0, 0) += 0.5;  // largest relative difference
  const Comparison c = compare(a, b);
  BOOST_TEST(c.max_abs == 0.6, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(format_index(c.shape, c.worst_abs) == "(1, 2)");
  BOOST_TEST(format_index(c.shape, c.worst_rel) == "(0, 0)");
  BOOST_TEST(c.max_rel == 0.5 / 1.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(compare(a, a).max_abs == 0.0);
  BOOST_TEST(compare(Tensor::vector({0}), Tensor::vector({0})).max_rel == 0.0);
  BOOST_TEST(!compare(Tensor::vector({NAN}), Tensor::vector({0})).finite);
  // the floor caps the relative error of tiny elements (Note [Relative error])
  BOOST_TEST(compare(Tensor::vector({1e-12}), Tensor::vector({2e-12}), 1e-6).max_rel == 1e-6,
             boost::test_tools::tolerance(1e-9));
  BOOST_CHECK_THROW(compare(Tensor::vector({1}), Tensor::vector({1, 2})), ShapeError);
}

BOOST_AUTO_TEST_CASE(allclose_is_numpys) {
  BOOST_TEST(allclose(Tensor::vector({1.0, 100.0}), Tensor::vector({1.0 + 1e-9, 100.0 + 1e-4}),
                      1e-8, 1e-5));
  BOOST_TEST(!allclose(Tensor::vector({1.0}), Tensor::vector({1.001}), 1e-8, 1e-5));
  BOOST_TEST(!allclose(Tensor::vector({NAN}), Tensor::vector({NAN}), 1, 1));
}

BOOST_AUTO_TEST_CASE(side_by_side_comparison_shows_both_tensors_at_the_worst_index) {
  const Tensor a = Tensor::vector({1, 2, 3, 4});
  Tensor b = a;
  b[3] = 4.5;
  const std::string text = format_comparison("delta", a, "grad", b);
  const std::string want =
      "delta vs grad (4,): max |a-b| 5.000e-01 at (3,), max rel 1.111e-01 at (3,)\n"
      "         index             delta              grad      |a-b|        rel\n"
      "          (0,)   1.000000000e+00   1.000000000e+00   0.00e+00   0.00e+00\n"
      "          (1,)   2.000000000e+00   2.000000000e+00   0.00e+00   0.00e+00\n"
      "          (2,)   3.000000000e+00   3.000000000e+00   0.00e+00   0.00e+00\n"
      "          (3,)   4.000000000e+00   4.500000000e+00   5.00e-01   1.11e-01";
  BOOST_TEST(text == want);
}

// issue 26: a table that shows some of the elements says which
BOOST_AUTO_TEST_CASE(a_comparison_that_shows_some_elements_says_which) {
  const Tensor a = Tensor::vector({1, 2, 3, 4, 5, 6});
  Tensor b = a;
  b[4] = 5.5;
  const std::string text = format_comparison("delta", a, "grad", b);
  BOOST_TEST(
      text.ends_with("          (4,)   5.000000000e+00   5.500000000e+00   5.00e-01   9.09e-02\n"
                     "  (rows: the first 3 of the 6 elements, then the largest |a-b| and rel)"));
  BOOST_TEST(format_comparison("a", a, "b", a).find("(rows:") != std::string::npos);
  BOOST_TEST(
      format_comparison("a", Tensor::vector({1, 2}), "b", Tensor::vector({1, 2})).find("(rows:") ==
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(inline_values_show_small_tensors_whole_on_one_line) {
  BOOST_TEST(inline_values(Tensor::vector({0.21306})) == "0.2131");
  BOOST_TEST(inline_values(Tensor::scalar(1)) == "1.0000");
  BOOST_TEST(inline_values(Tensor::matrix({{1, -2}, {3, 4}})) ==
             "[[ 1.0000 -2.0000] [ 3.0000  4.0000]]");
  PrintOptions two;
  two.precision = 2;
  BOOST_TEST(inline_values(Tensor::vector({0.5, 0.25}), two) == "[0.50 0.25]");
  BOOST_TEST(inline_values(Tensor::zeros(kSmallTensor)).find("...") == std::string::npos);
  BOOST_TEST(inline_values(Tensor::zeros(kSmallTensor + 1)) == "(17,)");
  BOOST_TEST(describe(Tensor::zeros(kSmallTensor + 1)).starts_with("(17,) min 0 max 0"));
  // a summary's digits are its own option (--digits), significant digits, not --precision's
  BOOST_TEST(summary(Tensor::vector({1.0 / 3}), two) ==
             "(1,) min 0.3333 max 0.3333 mean 0.3333 norm 0.3333");
  two.digits = 2;
  BOOST_TEST(summary(Tensor::vector({1.0 / 3}), two) ==
             "(1,) min 0.33 max 0.33 mean 0.33 norm 0.33");
  BOOST_TEST(summary(Tensor::vector({1234.5}), two) ==
             "(1,) min 1.2e+03 max 1.2e+03 mean 1.2e+03 norm 1.2e+03");
}

// 01_neuron's tape: the rules read as the article's chain rule, with the numbers plugged in.
BOOST_AUTO_TEST_CASE(explain_backward_plugs_the_numbers_into_each_rule) {
  Parameter W("W", Tensor::matrix({{0.4, -0.2, 0.7}}));
  Tape tape;
  const Var o0 = tape.input(Tensor::vector({0.5, 0.1, 0.9}), "O0");
  const Var Z = matmul(tape.param(W), o0).named("Z");
  const Var O = sigmoid(Z).named("O");
  tape.backward(O);
  BOOST_TEST(explain_backward(tape, O.index()) ==
             "grad Z += grad O ⊙ O (1 - O) = 1.0000 ⊙ 0.2131 = 0.2131");
  // O0 is data: no line for it, only for W.
  BOOST_TEST(explain_backward(tape, Z.index()) ==
             "grad W += grad Z · O0^T = 0.2131 · [0.5000 0.1000 0.9000]^T = "
             "[[0.1065 0.0213 0.1918]]");
  BOOST_TEST(explain_backward(tape, 0).empty());  // a leaf has no rule
  PrintOptions six;
  six.precision = 6;
  BOOST_TEST(explain_backward(tape, O.index(), six) ==
             "grad Z += grad O ⊙ O (1 - O) = 1.000000 ⊙ 0.213094 = 0.213094");
}

// An add or a sub only passes the gradient on: the rule shows its number once, not "= 2.0000 =
// 2.0000" (00_chain_rule's gate patterns).
BOOST_AUTO_TEST_CASE(a_rule_that_passes_the_gradient_on_shows_its_number_once) {
  Tape tape;
  const Var p = tape.variable(Tensor::scalar(-12.0), "p");
  const Var m = tape.variable(Tensor::scalar(2.0), "m");
  const Var s = add(p, m).named("s");
  const Var d = sub(p, m).named("d");
  const Var t = scale(s, 2.0).named("t");
  const Var f = add(t, d).named("f");
  tape.backward(f);
  BOOST_TEST(explain_backward(tape, s.index()) ==
             "grad p += grad s = 2.0000\ngrad m += grad s = 2.0000");
  BOOST_TEST(explain_backward(tape, d.index()) ==
             "grad p += grad d = 1.0000\ngrad m += -grad d = -1.0000");
  // A rule with arithmetic still shows it.
  BOOST_TEST(explain_backward(tape, t.index()) == "grad s += 2 * grad t = 2 * 1.0000 = 2.0000");
}

BOOST_AUTO_TEST_CASE(explain_backward_names_every_input_and_shows_big_operands_by_shape) {
  Tape tape;
  const Var a = tape.variable(Tensor::vector({2, 3}), "a");
  const Var b = tape.variable(Tensor::vector({5, 7}), "b");
  const Var c = mul(a, b).named("c");
  tape.backward(c, Tensor::vector({1, 1}));
  BOOST_TEST(explain_backward(tape, c.index()) ==
             "grad a += grad c ⊙ b = [1.0000 1.0000] ⊙ [5.0000 7.0000] = [5.0000 7.0000]\n"
             "grad b += grad c ⊙ a = [1.0000 1.0000] ⊙ [2.0000 3.0000] = [2.0000 3.0000]");
  Tape big;
  const Var x = big.variable(Tensor::zeros(20), "x");
  const Var s = scale(x, 2).named("s");
  big.backward(sum(s).named("L"));
  BOOST_TEST(
      explain_backward(big, s.index())
          .starts_with("grad x += 2 * grad s = 2 * (20,) = (20,) min 2 max 2 mean 2 norm 8.944"));
}

// issue 26: a tensor built without reading tensor.hpp, printed with the header a learner
// includes for the ops (format_with_ops_hpp.cpp includes ops.hpp alone).
BOOST_AUTO_TEST_CASE(a_tensor_from_a_function_prints_with_ops_hpp_alone) {
  const Tensor m = Tensor::from_function(2, 3, [](std::size_t r, std::size_t c) {
    return 10.0 * static_cast<double>(r) + static_cast<double>(c);
  });
  BOOST_TEST(m == Tensor::matrix({{0, 1, 2}, {10, 11, 12}}));
  BOOST_TEST(Tensor::from_function(3, [](std::size_t i) { return i * i; }) ==
             Tensor::vector({0, 1, 4}));
  BOOST_TEST(testing::format_with_ops_hpp_only(m) == fmt::format("{}", m));
  BOOST_TEST(testing::format_with_ops_hpp_only(m) ==
             "tensor(2, 3)\n[[ 0.0000  1.0000  2.0000]\n [10.0000 11.0000 12.0000]]");
  try {
    (void)Tensor::matrix({{1, 2}, {3}});
    BOOST_FAIL("a ragged nested list made a matrix");
  } catch (const ShapeError& e) {
    BOOST_TEST(std::string(e.what()) == "Tensor::matrix: row 1 has 1 values, row 0 has 2");
  }
}

// issue 26 (R48): an uncaught error in a program of your own prints its message in one line
// and exits 1, not "terminate called after throwing".
BOOST_AUTO_TEST_CASE(main_guard_prints_an_escaping_error_in_one_line) {
  std::FILE* err = std::tmpfile();
  BOOST_REQUIRE(err != nullptr);
  const int status = main_guard(
      [] {
        Tape t;
        (void)add(t.variable(Tensor::vector({1, 2})), t.variable(Tensor::vector({1, 2, 3})));
      },
      err);
  BOOST_TEST(status == 1);
  std::rewind(err);
  char line[256] = {};
  BOOST_REQUIRE(std::fgets(line, sizeof line, err) != nullptr);
  BOOST_TEST(std::string(line).starts_with("error: add: "));
  BOOST_TEST(std::string(line).ends_with("\n"));
  BOOST_TEST(std::fgets(line, sizeof line, err) == nullptr);  // one line
  std::fclose(err);
  BOOST_TEST(main_guard([] { return 3; }) == 3);
  BOOST_TEST(main_guard([] {}) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
