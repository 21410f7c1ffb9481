// The labs' grader: runs a learner's function, compares its result with the tape and with finite
// differences, and names the mistake when it is a catalogued one (docs/labs.md has the catalogue).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/tape.hpp>
#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad::labs {

// Note [Naming a mistake]
// A wrong answer is named by computing, from the true quantities, what each catalogued mistake
// would give (a Candidate: the article's erratum E1, sigmoid' at O instead of Z, ...) and seeing
// which one the learner's tensor equals (to 1e-6 relative). Then come the mistakes that need no
// candidate: a result that is the transpose of the answer (a transpose too many or too few, or
// an outer product in the wrong order), a ShapeError thrown by the learner's code (a matmul that
// needed a transpose), and a result that is c times the answer (c = -1: a flipped sign; else "off
// by a factor of c"). Each diagnosis starts with the mistake's id in brackets, "[E1]", which
// tests/scripts/check_labs.py and docs/labs.md's table use.

/// The language of a report's words: English (the labs, the explorer in English) or Chinese (the
/// explorer in Chinese, docs/zh/glossary.md's terms). Ids, names, numbers, shapes, formulas and
/// the learner's own code's messages are the same in both.
enum class Lang { en, zh };

/// A catalogued mistake's result for one quantity, computed from the true quantities.
struct Candidate {
  std::string id;         ///< "E1", as in docs/labs.md's table
  std::string diagnosis;  ///< what the learner did, and what is right
  Tensor value;
  std::string diagnosis_zh = {};  ///< the same in Chinese; empty: the English one
};

/// One quantity to grade.
struct Check {
  std::string name;      ///< "delta2"
  std::string equation;  ///< "eq. (9)"
  /// The right formula with its operands' shapes, for shape mistakes: "delta2 = (W2^T (64, 10) ·
  /// delta3 (10,)) ⊙ sigmoid'(Z2) (64,)".
  std::string formula;
  bool outer = false;  ///< the quantity is an outer product (a transposed result: the wrong order)
  Tensor tape;         ///< the answer, from the engine's tape
  /// The function whose gradient the quantity is, of the tensor `at`, for finite differences;
  /// empty when the quantity is not a gradient (a forward value).
  std::function<double(const Tensor&)> loss;
  Tensor at;
  std::vector<Candidate> mistakes;
  /// The absolute error a right answer may carry from rounding (an update (W - W') / lr), on top
  /// of Note [Relative error]'s floor of 1e-6 times the answer's largest element.
  double rounding = 0.0;
};

/// What grade() found.
struct Result {
  std::string name, equation;
  Shape shape;          ///< of the answer
  bool written = true;  ///< false: the learner's function is still a TODO
  bool passed = false;
  double rel_tape = 0.0;        ///< max relative error against the tape
  double rel_fd = 0.0;          ///< ... against finite differences
  std::size_t fd_elements = 0;  ///< how many elements finite differences checked
  std::optional<std::size_t> first_wrong;
  double yours = 0.0, tapes = 0.0;  ///< the first wrong element, yours and the tape's
  std::string diagnosis;            ///< "[E1] ..."; empty when passed
};

/// Runs `yours` (the learner's function) and grades its result against `c`; the diagnosis is in
/// `lang`.
Result grade(const Check& c, const std::function<Tensor()>& yours, Lang lang = Lang::en);
/// Names the mistake of a wrong result `yours` (Note [Naming a mistake]), in `lang`.
std::string diagnose(const Check& c, const Tensor& yours, Lang lang = Lang::en);

/// The report of one quantity, a few lines, in `lang` (its diagnosis is grade()'s, as given).
std::string format_result(const Result& r, Lang lang = Lang::en);

/// A lab's command line: --trace, --step, --mistake ID, --list-mistakes, --help.
struct Options {
  bool trace = false;
  bool step = false;
  std::string mistake;  ///< grade a catalogued mistake's code instead of yours
};

/// One catalogued mistake written as code, for --mistake (and tests/scripts/check_labs.py).
struct Planted {
  std::string id;        ///< "E1"
  std::string quantity;  ///< which quantity it replaces: "delta2"
  std::string code;      ///< the wrong line, as the learner would write it
};

/// A lab: its name, its file, what it asks, its plants, and how it grades.
struct Lab {
  std::string name;   ///< "lab_02"
  std::string file;   ///< "labs/02_deltas.cpp"
  std::string about;  ///< one line
  std::vector<Planted> planted;
  /// Grades every quantity; with `mistake` set, only the planted mistake's quantity, computed by
  /// the planted code. Records its tapes with `tracer` attached.
  std::function<std::vector<Result>(const Options&, const std::function<void(Tape&)>& tracer)> run;
};

/// The lab's main(): parses the options, runs it, prints a first line that says what to do
/// next, then every quantity's report. 0 when everything passes, 1 when not, 2 for a bad option.
int lab_main(const Lab& lab, int argc, char** argv);

}  // namespace stepgrad::labs
