// Printing shared by the tutorials and the tests' failure messages: numpy-style summarised
// tensors, one-line statistics, and side-by-side comparisons of two tensors.
#pragma once

#include <cstddef>
#include <cstdio>
#include <exception>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include <stepgrad/autodiff/tape.hpp>
#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad {

struct PrintOptions {
  int precision = 4;            ///< digits after the point (fixed) or of the mantissa (scientific)
  int digits = 4;               ///< significant digits of summary()'s min, max, mean and norm
  std::size_t edgeitems = 3;    ///< rows/columns shown at each edge of a summarised tensor
  std::size_t threshold = 100;  ///< summarise tensors with more elements than this
  bool summarise = true;        ///< false prints every element (the tutorials' --full)
};

/// A program's main() with stepgrad's error reporting (R48 in docs/reliability.md): returns
/// body()'s exit status (0 for a body returning nothing); an exception escaping it prints
/// "error: " and its message as one line on `err` and returns 1, where an uncaught exception
/// would print "terminate called after throwing ..." and abort. In a program of your own:
///   int main() { return stepgrad::main_guard([] { ... }); }
template <class Body>
int main_guard(Body&& body, std::FILE* err = stderr) {
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<Body&>>) {
      body();
      return 0;
    } else {
      return static_cast<int>(body());
    }
  } catch (const std::exception& e) {
    fmt::print(err, "error: {}\n", e.what());
  } catch (...) {
    fmt::print(err, "error: an exception that is not a std::exception\n");
  }
  return 1;
}

/// The options `{}` uses; tutorials change them once (--full, --precision, --digits).
PrintOptions& default_print_options();

/// numpy's str(): rows in brackets, `...` between edge items, fixed or scientific notation
/// chosen as numpy chooses it. Vectors print as one row. No shape header.
std::string format_values(const Tensor& t, const PrintOptions& opts = default_print_options());

/// The same text as fmt's `{}` (for streams and Boost.Test messages).
std::ostream& operator<<(std::ostream& os, const Tensor& t);

/// Tensors with at most this many elements are small: a trace, a rule and a drawn graph show
/// every one of their values instead of a summary.
inline constexpr std::size_t kSmallTensor = 16;

/// A tensor inside a line of text: one element as a plain number ("0.2131"), a small tensor as
/// its values on one line ("[[0.1065 0.0213 0.1918]]"), a larger one as its shape ("(128,)").
std::string inline_values(const Tensor& t, const PrintOptions& opts = default_print_options());

/// What a trace prints for a value: its values when small (inline_values), else summary().
std::string describe(const Tensor& t, const PrintOptions& opts = default_print_options());

/// Node i's backward rule with its numbers plugged in, one line per input that takes a
/// gradient (Note [Rules as text] in tape.hpp):
/// "grad Z += grad O ⊙ O (1 - O) = 1.0000 ⊙ 0.2131 = 0.2131". Call it when node i's gradient is
/// complete (a backward observer). Empty for a leaf.
std::string explain_backward(Tape& tape, std::size_t i,
                             const PrintOptions& opts = default_print_options());

/// "Z1 (128,)" on one line, then the values.
std::string show(std::string_view name, const Tensor& t,
                 const PrintOptions& opts = default_print_options());

/// The numbers a trace prints for a tensor.
struct TensorStats {
  double min = 0, max = 0, mean = 0, norm = 0;  ///< over the finite elements; norm is L2
  std::size_t nan = 0, inf = 0;
};
TensorStats stats(const Tensor& t);
/// "(128,) min -0.3101 max 0.4213 mean 0.0102 norm 1.2345" (+ "NaN 3 Inf 1" when present), with
/// opts.digits significant digits.
std::string summary(const Tensor& t, const PrintOptions& opts = default_print_options());

// Note [Relative error]
// rel_i = |a_i - b_i| / max(|a_i|, |b_i|, floor), and 0 where that denominator is 0.
// With floor = 0 it is the textbook relative error (cs231n). A gradient check passes a floor
// equal to the resolution of its finite differences: below it, a numerical derivative has
// no correct digits left to compare (see gradcheck.hpp).

/// How far apart two tensors of one shape are.
struct Comparison {
  Shape shape;
  double max_abs = 0.0;       ///< max |a - b|
  double max_rel = 0.0;       ///< max relative error, Note [Relative error]
  std::size_t worst_abs = 0;  ///< flat index of max_abs
  std::size_t worst_rel = 0;  ///< flat index of max_rel
  double floor = 0.0;         ///< the relative error's floor
  bool finite = true;         ///< no NaN or Inf in either tensor
};
/// Throws ShapeError when the shapes differ.
Comparison compare(const Tensor& a, const Tensor& b, double floor = 0.0);
/// numpy.allclose(a, b): |a - b| <= atol + rtol |b| everywhere (b is the reference), all finite.
bool allclose(const Tensor& a, const Tensor& b, double atol, double rtol);

/// Side by side: one line of statistics (max |a-b|, max relative error, where), then a small
/// table of the elements that matter in both tensors: all of a tensor of up to 5 elements, else
/// the first three, then those of the largest |a-b| and the largest relative error, and a line
/// saying so.
std::string format_comparison(std::string_view name_a, const Tensor& a, std::string_view name_b,
                              const Tensor& b, double floor = 0.0);

}  // namespace stepgrad

/// `{}` prints the shape, then the values (default_print_options()); `{:.6}` sets the
/// precision and `{:a}` prints all elements, unsummarised.
template <>
struct fmt::formatter<stepgrad::Tensor> {
  int precision = -1;
  bool all = false;

  constexpr auto parse(fmt::format_parse_context& ctx) {
    auto it = ctx.begin();
    if (it != ctx.end() && *it == '.') {
      precision = 0;
      for (++it; it != ctx.end() && *it >= '0' && *it <= '9'; ++it)
        precision = precision * 10 + (*it - '0');
    }
    if (it != ctx.end() && *it == 'a') {
      all = true;
      ++it;
    }
    if (it != ctx.end() && *it != '}')
      throw fmt::format_error("Tensor: format is {}, {:.N}, {:a} or {:.Na}");
    return it;
  }

  auto format(const stepgrad::Tensor& t, fmt::format_context& ctx) const {
    stepgrad::PrintOptions opts = stepgrad::default_print_options();
    if (precision >= 0) opts.precision = precision;
    if (all) opts.summarise = false;
    return fmt::format_to(ctx.out(), "tensor{}\n{}", t.shape(), stepgrad::format_values(t, opts));
  }
};
