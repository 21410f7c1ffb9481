// "Your turn" (docs/explorer.md, docs/labs.md): at each backward step of the article's network the
// learner types the quantity as an expression (expr.hpp), and the labs' grader grades it against
// the same checks and catalogue of mistakes as lab 02 (article_checks.hpp). The explorer's page
// calls this through web/bindings.cpp; tests/labs/test_your_turn.cpp feeds it every mistake.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/tensor.hpp>

#include "article_checks.hpp"
#include "grader.hpp"

namespace stepgrad::labs {

/// One step of the backward pass, in the order the article computes them.
struct TurnStep {
  std::string name;    ///< what the learner computes: "delta2", or "W2" for its update
  std::string check;   ///< the ArticleChecks check that grades it: "delta2", "step W2"
  std::string answer;  ///< a right expression, as the article writes it
};
/// delta3, delta2, delta1, Delta2, Delta1, Delta0, then the updates W2, W1, W0 (eqs. 8-12).
const std::vector<TurnStep>& turn_steps();

/// The tensors step `step`'s expression may name: the forward pass (W0..W2 before the update,
/// O0..O3, Z1..Z3, Y), the tape's values of the steps before it, and lr for the updates.
std::map<std::string, Tensor> turn_names(const ArticleChecks& a, std::size_t step);

/// What grading a typed expression found.
struct TurnGrade {
  std::string error;       ///< the expression's mistake, one line; empty when it evaluated
  std::size_t column = 0;  ///< of that mistake, 1-based; 0 when none
  bool graded = false;     ///< the grader ran: it evaluated, or its shapes did not fit
  Result result;           ///< when graded; an update's is (W before - yours) / lr against Delta
};
/// Parses and evaluates `text` for step `step`, and grades it (Note [Naming a mistake]). A shape
/// error is graded as a lab's ShapeError is (a transpose too many or too few?), and keeps its
/// column; a syntax error or unknown name is not graded.
/// The grade's diagnosis and report in `lang` (the expression's mistake, `error`, is the
/// parser's words in both).
TurnGrade grade_turn(const ArticleChecks& a, std::size_t step, std::string_view text,
                     Lang lang = Lang::en);

}  // namespace stepgrad::labs
