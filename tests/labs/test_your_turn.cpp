// "Your turn" (labs/your_turn.hpp): every step's answer passes, and each catalogued mistake of
// lab 02, typed as an expression, gets the lab's diagnosis (docs/labs.md's table), in English and
// in Chinese (the explorer's two languages).
#include <string>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/labs/your_turn.hpp>

using namespace stepgrad;
using namespace stepgrad::labs;

namespace {

// Lab 02's sample: seed 42's weights, 784 pixels from RandomState(0), label 4.
const ArticleChecks& article() {
  static const ArticleChecks a = [] {
    RandomState rng(0);
    Tensor x = Tensor::zeros(784);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.random_sample();
    Tensor y = Tensor::zeros(10);
    y[4] = 1.0;
    return article_checks(Network(NetworkOptions{.seed = 42}), x, y, 0.001);
  }();
  return a;
}

std::size_t step_of(const std::string& name) {
  for (std::size_t i = 0; i < turn_steps().size(); ++i)
    if (turn_steps()[i].name == name) return i;
  BOOST_FAIL("no step " + name);
  return 0;
}

TurnGrade typed(const std::string& step, const std::string& text) {
  return grade_turn(article(), step_of(step), text);
}

// The diagnosis's id: "[E1] ..." -> "E1".
std::string id_of(const TurnGrade& g) {
  const std::string& d = g.result.diagnosis;
  if (d.empty() || d[0] != '[') return d;
  return d.substr(1, d.find(']') - 1);
}

// Whether UTF-8 `s` has a CJK ideograph (U+4E00..U+9FFF: a lead byte 0xE4..0xE9).
bool has_chinese(const std::string& s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0xE4 && u <= 0xE9) return true;
  }
  return false;
}

// The words of an English diagnosis or report that a Chinese one must not have.
constexpr const char* kEnglishWords[] = {"yours",     "the answer",     "instead of", "erratum",
                                         "your code", "comes from",     "catalogued", "diagnosis",
                                         "FAIL",      "relative error", "eq. ("};

void check_named(const std::string& step, const std::string& text, const std::string& id) {
  const TurnGrade g = typed(step, text);
  BOOST_TEST_CONTEXT(step << ": " << text << " -> " << g.result.diagnosis) {
    BOOST_TEST(g.graded);
    BOOST_TEST(!g.result.passed);
    BOOST_TEST(id_of(g) == id);
  }
  // The same grade in Chinese (the explorer's): the same mistake named, in Chinese words.
  const TurnGrade z = grade_turn(article(), step_of(step), text, Lang::zh);
  const std::string report = format_result(z.result, Lang::zh);
  BOOST_TEST_CONTEXT(step << ": " << text << " -> " << report) {
    BOOST_TEST(id_of(z) == id);
    BOOST_TEST(z.column == g.column);
    BOOST_TEST(z.result.rel_tape == g.result.rel_tape);
    BOOST_TEST(has_chinese(z.result.diagnosis));
    BOOST_TEST(report.find("诊断：" + z.result.diagnosis) != std::string::npos);
    for (const char* word : kEnglishWords) BOOST_TEST(report.find(word) == std::string::npos);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(your_turn)

BOOST_AUTO_TEST_CASE(every_steps_answer_passes_in_both_spellings) {
  BOOST_TEST(turn_steps().size() == 9u);
  for (std::size_t i = 0; i < turn_steps().size(); ++i) {
    const TurnGrade g = grade_turn(article(), i, turn_steps()[i].answer);
    BOOST_TEST_CONTEXT(turn_steps()[i].name << " = " << turn_steps()[i].answer) {
      BOOST_TEST(g.error.empty());
      BOOST_TEST(g.graded);
      BOOST_TEST(g.result.passed);
      BOOST_TEST(g.result.rel_tape < 1e-8);
      BOOST_TEST(g.result.fd_elements > 0u);
      BOOST_TEST(g.result.rel_fd < 1e-5);
    }
  }
  // In Chinese: "通过" where the English says "pass", and the same numbers.
  const TurnGrade en = typed("delta1", "(W1^T · delta2) ⊙ sigmoid'(Z1)");
  const TurnGrade zh =
      grade_turn(article(), step_of("delta1"), "(W1^T · delta2) ⊙ sigmoid'(Z1)", Lang::zh);
  BOOST_TEST(zh.result.passed);
  BOOST_TEST(format_result(en.result).find("delta1 (128,)  eq. (10)  pass\n") == 0u);
  BOOST_TEST(format_result(zh.result, Lang::zh).find("delta1 (128,)  式 (10)  通过\n") == 0u);
  BOOST_TEST(zh.result.rel_fd == en.result.rel_fd);
  BOOST_TEST(typed("delta2", "W2.T @ delta3 * dsigmoid(Z2)").result.passed);
  BOOST_TEST(typed("Delta0", "delta1 @ O0.T").result.passed);
  BOOST_TEST(typed("W1", "W1 - lr * outer(delta2, O1)").result.passed);
}

BOOST_AUTO_TEST_CASE(a_step_sees_only_what_comes_before_it) {
  const TurnGrade g = typed("delta2", "delta2");
  BOOST_TEST(!g.graded);
  BOOST_TEST(g.column == 1u);
  BOOST_TEST(g.error.rfind("unknown name 'delta2'", 0) == 0);
  BOOST_TEST(!turn_names(article(), step_of("delta1")).contains("Delta2"));
  BOOST_TEST(!turn_names(article(), step_of("Delta0")).contains("lr"));
  BOOST_TEST(turn_names(article(), step_of("W0")).contains("Delta0"));
  BOOST_CHECK_THROW(turn_names(article(), 9), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(a_syntax_error_is_not_graded_and_keeps_its_column) {
  const TurnGrade g = typed("delta2", "(W2^T · delta3 ⊙ sigmoid'(Z2)");
  BOOST_TEST(!g.graded);
  BOOST_TEST(g.column == 1u);
  BOOST_TEST(g.error == "this '(' is never closed");
}

BOOST_AUTO_TEST_CASE(each_catalogued_mistake_typed_is_named) {
  // A missing transpose: the shapes do not fit at the '@' (column 4), named as lab 02 names it.
  const TurnGrade t = typed("delta2", "W2 @ delta3 * dsigmoid(Z2)");
  BOOST_TEST(t.column == 4u);
  BOOST_TEST(id_of(t) == "transpose");
  BOOST_TEST(t.result.diagnosis.find("(10, 64) and (10,)") != std::string::npos);
  BOOST_TEST(t.result.diagnosis.find("eq. (9)") != std::string::npos);
  check_named("delta2", "(W2^T · delta3) ⊙ softmax'(Z2)", "E1");
  check_named("delta2", "(W2^T · delta3) ⊙ sigmoid'(O2)", "sigmoid_at_O");
  check_named("delta2", "(W2^T · delta3) ⊙ Z2 ⊙ (1 - Z2)", "sigmoid_formula_at_Z");
  check_named("delta1", "W1.T @ delta2 * dsigmoid(O1)", "sigmoid_at_O");
  check_named("delta1", "W1.T @ delta2 * Z1 * (1 - Z1)", "sigmoid_formula_at_Z");
  check_named("delta3", "2 * (O3 - Y)", "factor");
  check_named("delta3", "Y - O3", "sign");
  check_named("delta3", "0 * Y", "zero");
  check_named("delta3", "O3", "unknown");
  check_named("Delta2", "outer(O2, delta3)", "outer_order");
  check_named("Delta1", "(delta2 ⊗ O1)^T", "outer_order");
  check_named("Delta0", "O0 ⊗ delta1", "outer_order");
  check_named("W2", "W2 + lr * Delta2", "sign");
  check_named("W2", "W2 - 2 * lr * Delta2", "factor");
  check_named("W2", "W2 - lr * Delta2.T", "transpose");
  // Eq. (12) in the wrong order: delta2, then delta1, from weights already updated.
  const std::string W2u = "(W2 - λ · Delta2)";
  const std::string d2u = "((" + W2u + "^T · delta3) ⊙ sigmoid'(Z2))";
  const std::string W1u = "(W1 - λ · " + d2u + " ⊗ O1)";
  const std::string d1u = "((" + W1u + "^T · " + d2u + ") ⊙ sigmoid'(Z1))";
  check_named("W1", W1u, "updated_weights");
  check_named("W0", "W0 - λ · " + d1u + " ⊗ O0", "updated_weights");
}

BOOST_AUTO_TEST_SUITE_END()
