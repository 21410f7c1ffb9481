#include "your_turn.hpp"

#include <stdexcept>

#include "expr.hpp"

namespace stepgrad::labs {

const std::vector<TurnStep>& turn_steps() {
  static const std::vector<TurnStep> steps = {
      {"delta3", "delta3", "O3 - Y"},
      {"delta2", "delta2", "(W2^T · delta3) ⊙ sigmoid'(Z2)"},
      {"delta1", "delta1", "(W1^T · delta2) ⊙ sigmoid'(Z1)"},
      {"Delta2", "Delta2", "delta3 ⊗ O2"},
      {"Delta1", "Delta1", "delta2 ⊗ O1"},
      {"Delta0", "Delta0", "delta1 ⊗ O0"},
      {"W2", "step W2", "W2 - λ · Delta2"},
      {"W1", "step W1", "W1 - λ · Delta1"},
      {"W0", "step W0", "W0 - λ · Delta0"},
  };
  return steps;
}

namespace {
void check_step(std::size_t step) {
  if (step >= turn_steps().size())
    throw std::out_of_range("Your turn: the steps are 0 to " +
                            std::to_string(turn_steps().size() - 1));
}
bool is_update(std::size_t step) { return turn_steps()[step].check.rfind("step ", 0) == 0; }
}  // namespace

std::map<std::string, Tensor> turn_names(const ArticleChecks& a, std::size_t step) {
  check_step(step);
  const Forward& f = *a.f;
  std::map<std::string, Tensor> env = {
      {"W0", f.W0}, {"W1", f.W1}, {"W2", f.W2}, {"O0", f.O0}, {"Z1", f.Z1}, {"O1", f.O1},
      {"Z2", f.Z2}, {"O2", f.O2}, {"Z3", f.Z3}, {"O3", f.O3}, {"Y", f.Y},
  };
  const Tensor* before[] = {&a.delta3, &a.delta2, &a.delta1, &a.Delta2, &a.Delta1, &a.Delta0};
  for (std::size_t k = 0; k < step && k < std::size(before); ++k)
    env[turn_steps()[k].name] = *before[k];
  if (is_update(step)) env["lr"] = Tensor::scalar(a.lr);
  return env;
}

TurnGrade grade_turn(const ArticleChecks& a, std::size_t step, std::string_view text, Lang lang) {
  check_step(step);
  const Check& c = a.check(turn_steps()[step].check);
  TurnGrade g;
  Tensor yours;
  try {
    yours = evaluate(Expr::parse(text), turn_names(a, step));
  } catch (const ExprError& e) {
    g.error = e.what();
    g.column = e.column();
    if (e.kind() != ExprError::Kind::shape) return g;
    // Named as the labs name a ShapeError their code throws (Note [Naming a mistake]).
    g.result = grade(
        c, [&]() -> Tensor { throw ShapeError(e.what()); }, lang);
    g.graded = true;
    return g;
  }
  if (is_update(step)) {
    const std::size_t l = static_cast<std::size_t>(turn_steps()[step].name[1] - '0');
    const Forward& f = *a.f;
    yours = subtracted(l == 0 ? f.W0 : l == 1 ? f.W1 : f.W2, yours, a.lr);
  }
  g.result = grade(
      c, [&] { return yours; }, lang);
  g.graded = true;
  return g;
}

}  // namespace stepgrad::labs
