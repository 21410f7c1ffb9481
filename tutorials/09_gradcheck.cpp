// 09_gradcheck: three independent routes to dC/dW for one real image, side by side: the tape,
// the hand-derived deltas, and finite differences (max abs and relative error, elements checked).
// The `fixed` recipe agrees; the `article` recipe's Delta1 and Delta0 fail the check, by the size
// erratum E1 predicts. --dump FILE.npz writes the sample, weights and tape gradients for numpy.
// --model FILE runs the same checks at a trained model's weights (10_train's model.npz).
// Run: build/tutorials/09_gradcheck [--sample N] [--elements K (0 = all)] [--dump FILE.npz]
//      [--model FILE] [--precision N]
// Docs: docs/09_gradcheck.md (中文: docs/zh/09_gradcheck.md)
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/article_sample.hpp>
#include <stepgrad/cli/dot.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/tracer.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/dump.hpp>
#include <stepgrad/nn/model.hpp>
#include <stepgrad/nn/network.hpp>

using namespace stepgrad;

namespace {

// An error too small to matter is shown as a bound: its digits are rounding, which changes
// with the order of a sum (a kernel's lanes), and the output must read the same on every
// machine (tests/golden/). Below `floor`: "< floor"; below 1e-6: "< " the next power of ten.
std::string error(double v, double floor) {
  if (!std::isfinite(v)) return "inf or nan";
  if (v >= 1e-6) return fmt::format("{:.2e}", v);
  if (v < floor) return fmt::format("< {:.0e}", floor);
  return fmt::format("< 1e{}", static_cast<int>(std::floor(std::log10(v))) + 1);
}

std::string table_header(std::string_view first) {
  return fmt::format("{:<4} {:^21}   {:^21}\n{:<4} {:>10} {:>10}   {:>10} {:>10} {:>15}\n", "",
                     first, "vs finite differences", "", "max |a-b|", "max rel", "max |a-b|",
                     "max rel", "checked");
}

// One line of the table: a weight's hand-derived Delta against the tape (floor 1e-12, the
// cross-check's bar), and the gradient check against finite differences.
std::string table_row(std::string_view name, const Comparison& vs_tape, const GradCheckReport& r) {
  return fmt::format("{:<4} {:>10} {:>10}   {:>10} {:>10} {:>8}/{:<6} {}\n", name,
                     error(vs_tape.max_abs, 1e-12), error(vs_tape.max_rel, 1e-12),
                     error(r.cmp.max_abs, 1e-15), error(r.cmp.max_rel, 1e-15), r.checked.size(),
                     r.analytic.size(), r.passed ? "ok" : "FAILED");
}

// The element to show, among the checked ones: where the check passed, the largest element of
// the gradient; where it failed, the one farthest from the true gradient `truth` (the tape's).
// Both are set by real differences, not by rounding: the largest error of a passing check, or
// the largest relative error of a failing one (the same along a whole row of Delta = delta ⊗ O),
// would be wherever rounding happened to tip it, which changes with the order of a sum.
std::size_t shown_element(const GradCheckReport& r, const Tensor& truth) {
  const auto size = [&](std::size_t k) {
    return r.passed ? std::abs(r.analytic[k]) : std::abs(r.analytic[k] - truth[k]);
  };
  std::size_t i = r.checked.front();
  for (std::size_t k : r.checked)
    if (size(k) > size(i)) i = k;
  return i;
}

// What section 1 concludes. Where the tape and Delta agree and finite differences miss rtol only
// by absolute errors under kRoundingBound, the differences have run out of digits (a small C is
// the difference of larger logits, so it is rounded to eps |Z3|, not eps |C|): that is measured,
// not a bug, and said so.
constexpr double kRoundingBound = 1e-11;
std::string fixed_verdict(const CrossCheck& c) {
  if (c.passed()) return "all three agree on W0, W1 and W2";
  bool rounding = true;
  for (const GradientAgreement& g : c.parameters) {
    rounding = rounding && g.tape_vs_deltas.finite && g.tape_vs_deltas.max_rel <= 1e-12 &&
               g.tape_vs_numeric.cmp.finite && g.tape_vs_numeric.cmp.max_abs < kRoundingBound;
  }
  if (!rounding) return "DISAGREEMENT: the engine has a bug";
  return fmt::format(
      "the tape and Delta agree; finite differences miss 1e-7 only by absolute errors under "
      "{:.0e},\n   where C = {:.3g} leaves them no more digits (docs/09_gradcheck.md, "
      "\"At trained weights\")",
      kRoundingBound, c.loss);
}

// Element i of W_l: the tape's gradient, the hand-derived Delta, and finite differences, with
// `digits` digits after the point (--precision).
std::string element_line(std::size_t l, const GradCheckReport& r, std::size_t i, double tape,
                         double delta, int digits) {
  return fmt::format(
      "  W{} {:<10}  tape {:>{}.{}e}   Delta{} {:>{}.{}e}   finite diff. {:>{}.{}e}\n", l,
      format_index(r.cmp.shape, i), tape, digits + 7, digits, l, delta, digits + 7, digits,
      r.numeric[i], digits + 7, digits);
}

// 1. The fixed recipe: the tape's gradient, Delta and finite differences agree.
void check_fixed(Network& net, const Tensor& x, const Tensor& y, std::size_t elements,
                 int precision) {
  fmt::print(
      "1. Recipe fixed: the tape's gradient vs Delta (nn/deltas.cpp) vs finite "
      "differences\n");
  const CrossCheck fixed = cross_check(net, x, y, elements);
  const Deltas right = backward_pass(net, forward_pass(net, x), y, Recipe::fixed);
  const Tensor* fixed_delta[] = {&right.Delta0, &right.Delta1, &right.Delta2};
  fmt::print("C = {:.6f}\n{}", fixed.loss, table_header("tape vs Delta"));
  std::string elements_shown;
  for (std::size_t l = 0; l < 3; ++l) {
    const GradientAgreement& g = fixed.parameters[l];
    const GradCheckReport& r = g.tape_vs_numeric;
    fmt::print("{}", table_row(g.name, g.tape_vs_deltas, r));
    const std::size_t i = shown_element(r, r.numeric);
    elements_shown += element_line(l, r, i, r.analytic[i], (*fixed_delta[l])[i], precision);
  }
  fmt::print("{}, three ways:\n{}",
             fixed.passed() ? "the largest checked element of each gradient"
                            : "the checked element of each gradient farthest from finite "
                              "differences",
             elements_shown);
  fmt::print("-> {}\n\n", fixed_verdict(fixed));
}

// 2. The article's recipe against the true gradient, which the tape (traced with --trace)
// computes into net.W*.grad().
void check_article(Tape& tape, Network& net, const Tensor& x, const Tensor& y, std::size_t elements,
                   int precision) {
  fmt::print("2. Recipe article: its Delta (eq. 9 with softmax's \"derivative\") vs the tape's\n");
  fmt::print("   gradient and vs finite differences\n");
  tape_gradients(tape, net, x, y);  // the true gradients, into net.W*.grad()
  const Deltas article = backward_pass(net, forward_pass(net, x), y, Recipe::article);
  const Tensor* article_delta[] = {&article.Delta0, &article.Delta1, &article.Delta2};
  GradCheckOptions check;
  check.max_elements = elements;
  const auto loss = [&] { return cross_entropy(forward_pass(net, x).Z3, y); };
  fmt::print("{}", table_header("article vs tape"));
  bool any_failed = false;
  std::string elements_shown;
  for (std::size_t l = 0; l < 3; ++l) {
    Parameter& w = net.weight(l);
    const GradCheckReport r = check_gradient(w.name, loss, w.value, *article_delta[l], check);
    any_failed = any_failed || !r.passed;
    fmt::print("{}", table_row(w.name, compare(*article_delta[l], w.grad()), r));
    const std::size_t i = shown_element(r, w.grad());
    elements_shown += element_line(l, r, i, w.grad()[i], r.analytic[i], precision);
  }
  fmt::print(
      "one element of each, three ways (if the check failed, the farthest from the tape):\n");
  fmt::print("{}", elements_shown);
  fmt::print("-> {}\n\n", any_failed ? "erratum E1: the article's gradients for W1 and W0 are wrong"
                                     : "no difference found");
}

// 3. How wrong erratum E1 makes the article's Delta1 and Delta0, and why.
void measure_e1(Network& net, const Tensor& x, const Tensor& y, bool at_initial_weights) {
  fmt::print("3. How wrong (erratum E1): the article's Delta against the true one\n");
  const std::vector<DeltaDistortion> e1 = measure_erratum_e1(net, x, y);  // D2, D1, D0
  fmt::print("{}\n", format_erratum_e1(e1));
  const ForwardValues a = forward_pass(net, x);
  const Tensor softmax_diagonal = article_softmax_derivative(a.Z2);  // (64,)
  const Tensor sigmoid_prime = map(a.Z2, [](double z) { return fn::sigmoid_prime(z); });
  const double n = static_cast<double>(a.Z2.size());
  fmt::print("   Why: eq. (9) multiplies by s (1 - s) with s = softmax(Z2) where sigmoid'(Z2)\n");
  fmt::print("   belongs. Over Z2's {} units s (1 - s) averages {:.4f}, sigmoid'(Z2) {:.4f}.\n",
             a.Z2.size(), sum(softmax_diagonal) / n, sum(sigmoid_prime) / n);
  // Scale and direction, each measured: a cosine c is an angle of acos(c).
  const auto degrees = [](double c) { return std::acos(c) * 180.0 / std::acos(-1.0); };
  fmt::print(
      "   Delta2 comes before eq. (9) and is right. Delta1 and Delta0 are {:.1f} and {:.1f}\n"
      "   times too small, and turned by {:.0f} and {:.0f} degrees from the true gradient:\n"
      "   {}\n",
      1.0 / e1[1].norm_ratio, 1.0 / e1[2].norm_ratio, degrees(e1[1].cosine), degrees(e1[2].cosine),
      std::min(e1[1].cosine, e1[2].cosine) >= 0.5
          ? "here mostly a smaller step, partly another direction."
          : "here another direction altogether, not only a smaller step.");
  if (at_initial_weights) {
    fmt::print(
        "   As training goes on the direction gets far worse (10_train --recipe article).\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("tape vs hand-derived deltas vs finite differences, for both recipes",
               "09_gradcheck");
  cli::CommonOptions opts;
  opts.precision = 6;  // of the element lines: enough to see the agreement and the erratum
  cli::add_common_options(app, opts, cli::kArticleSample | cli::kNoFull);
  std::size_t elements = 2000;
  cli::add_whole(app, "--elements", elements,
                 "elements of each weight matrix checked by finite differences (0 = all; all of "
                 "W0 takes seconds)",
                 0, 1 << 30);  // rejects -1 (not 2^64 - 1)
  std::string dump, model;
  app.add_option("--dump", dump, "write X, Y, W0-W2 and the tape gradients gW0-gW2 to this .npz")
      ->check(cli::output_file(false));  // before the work, in one line (R36)
  app.add_option("--model", model,
                 "check at the weights of this model file (10_train's model.npz), not at the "
                 "initial ones");
  return cli::run_with_sample(
      app, opts, argc, argv, [&](const cli::ArticleSample& sample, Network& net) {
        const Tensor& x = sample.x;  // (784,) O0
        const Tensor& y = sample.y;  // (10,) Y
        if (!model.empty()) {
          const Model m = load_model(model);
          net = m.network;
          fmt::print("Model {}: {}\n", model, m.options);
        }

        fmt::print("Sample {}, label {}. Every gradient is of C = -Y · log O3 at {}.\n",
                   opts.sample, sample.label,
                   model.empty() ? std::string("the initial weights")
                                 : fmt::format("the weights of {}", model));
        fmt::print(
            "Finite differences: the five-point stencil with h = 1e-3 (autodiff/gradcheck.hpp),\n");
        fmt::print(
            "{} elements of each matrix, spread evenly. A check passes at max rel <= 1e-7.\n\n",
            elements == 0 ? std::string("all") : fmt::format("up to {}", elements));

        check_fixed(net, x, y, elements, opts.precision);
        Tape tape;
        cli::attach_tracer(tape, opts);
        check_article(tape, net, x, y, elements, opts.precision);
        measure_e1(net, x, y, model.empty());

        if (!dump.empty()) {
          write_gradient_dump(dump, net, x, y);
          fmt::print(
              "\nwrote {}: X (784,), Y (10,), W0, W1, W2, their tape gradients gW0, gW1, gW2, C\n",
              dump);
          fmt::print(
              "(numpy.load it; tests/scripts/check_dump.py {} redoes eqs. (1)-(11) in numpy)\n",
              dump);
        }
        if (!opts.dot.empty()) cli::write_dot(tape, opts.dot);  // the true gradients
        return 0;
      });
}
