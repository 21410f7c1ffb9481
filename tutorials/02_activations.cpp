// 02_activations: the two activations of the article. Prints sigmoid and its derivative (eq. 5)
// at a few points, next to the article's formula for sigmoid' that turns into NaN (erratum E5);
// softmax (eq. 6) with and without its max shift; softmax's Jacobian next to the article's
// diagonal-only "derivative" (erratum E3). Writes sigmoid.png (sigmoid and sigmoid') into --out.
// Run: build/tutorials/02_activations [--out DIR] [--precision N]
// Docs: docs/02_activations.md (中文: docs/zh/02_activations.md)
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/dot.hpp>
#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/output_folder.hpp>
#include <stepgrad/cli/plots.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/cli/tracer.hpp>
#include <stepgrad/nn/deltas.hpp>

using namespace stepgrad;

namespace {
// A number in scientific notation, with NaN and infinities spelled the same on every machine
// (the sign of a NaN made by inf / inf differs between CPUs).
std::string sci(double v, int precision) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.{}e}", v, precision);
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app("sigmoid, softmax and their derivatives, and where the article's formulas break",
               "02_activations");
  cli::CommonOptions opts;
  cli::add_common_options(app, opts, cli::kTrace);
  cli::OutputOptions out;
  cli::add_output_options(app, out, "sigmoid.png", "");  // --out only: its picture is the lesson
  return cli::run(app, argc, argv, [&] {
    // The picture is this program's output: its folder must be writable first (R25).
    OutputSet outputs = cli::open_output_set(out.dir, "--out", {"sigmoid.png"});
    cli::apply_print_options(opts);
    cli::print_header(app);
    const int p = opts.precision;

    fmt::print(
        "1. sigmoid(z) = 1 / (1 + e^-z) and sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)), eq. (5)\n");
    fmt::print(
        "   The last column is the article's e^-z / (1 + e^-z)^2: the same function on paper,\n");
    fmt::print(
        "   but e^-z overflows to inf for z < -709 and inf / inf is NaN (erratum E5; numpy\n");
    fmt::print(
        "   warns \"overflow encountered in exp\"). stepgrad computes e^z / (1 + e^z) for z < "
        "0.\n");
    fmt::print("{:>8} {:>14} {:>14} {:>20}\n", "z", "sigmoid(z)", "sigmoid'(z)", "e^-z/(1+e^-z)^2");
    for (double z : {-1000.0, -20.0, -2.0, 0.0, 2.0, 20.0, 1000.0}) {
      const double e = std::exp(-z);
      fmt::print("{:>8.0f} {:>14} {:>14} {:>20}\n", z, sci(fn::sigmoid(z), p),
                 sci(fn::sigmoid_prime(z), p), sci(e / ((1.0 + e) * (1.0 + e)), p));
    }
    fmt::print(
        "   sigmoid'(z) is at most {:.{}f} (at z = 0): every sigmoid layer passes back at most\n",
        fn::sigmoid_prime(0.0), p);
    fmt::print("   a quarter of the gradient it receives.\n\n");

    fmt::print("2. softmax(z)_i = e^(z_i - max z) / sum_k e^(z_k - max z), eq. (6)\n");
    const Tensor huge = Tensor::vector({1000.0, 0.0, -1000.0});
    const Tensor e_huge = map(huge, [](double v) { return std::exp(v); });
    Tensor naive(huge.shape());
    for (std::size_t i = 0; i < huge.size(); ++i) naive[i] = e_huge[i] / sum(e_huge);
    fmt::print("{}\n", show("z", huge));
    fmt::print(
        "   without the shift, e^z / sum e^z: [{}, {}, {}] (e^1000 = inf, inf / inf = NaN)\n",
        sci(naive[0], p), sci(naive[1], p), sci(naive[2], p));
    fmt::print("{}\n", show("   with the shift, softmax(z)", fn::softmax(huge)));
    const Tensor z = Tensor::vector({1.0, 2.0, 0.5, -1.0});
    fmt::print("{}\n{}\n", show("   softmax([1, 2, 0.5, -1])", fn::softmax(z)),
               show("   softmax([1, 2, 0.5, -1] + 1000)",
                    fn::softmax(map(z, [](double v) { return v + 1000.0; }))));
    fmt::print("   Adding a constant to every z changes nothing: the shift is free.\n\n");

    fmt::print("3. The derivative of softmax is a matrix, its Jacobian J = diag(s) - s s^T\n");
    fmt::print(
        "   Each output s_i depends on every input z_j. The tape finds J one row at a time:\n");
    fmt::print("   backward from softmax(z) with seed e_i gives J^T e_i (J is symmetric).\n");
    Tape tape;
    cli::attach_tracer(tape, opts);
    const Var zv = tape.variable(z, "z");
    const Var s = softmax(zv).named("s");
    Tensor J(Shape::matrix(z.size(), z.size()));  // (4, 4)
    for (std::size_t i = 0; i < z.size(); ++i) {
      Tensor seed = Tensor::zeros(z.size());
      seed[i] = 1.0;
      tape.zero_grad();
      tape.backward(s, seed);
      for (std::size_t j = 0; j < z.size(); ++j) J(i, j) = zv.grad()[j];
    }
    const Tensor diagonal = article_softmax_derivative(z);
    if (!opts.dot.empty()) cli::write_dot(tape, opts.dot);  // the last row's sweep
    fmt::print("{}\n{}\n", show("J", J),
               show("article's softmax(z, derivative=True) = s (1 - s)", diagonal));
    fmt::print(
        "   The article keeps only J's diagonal and drops every -s_i s_j (erratum E3). For a\n");
    fmt::print("   gradient g arriving from above, backward needs J^T g, not s (1 - s) ⊙ g:\n");
    const Tensor g = Tensor::vector({0.1, -0.4, 0.2, 0.3});
    fmt::print("{}\n", show("g", g));
    fmt::print("{}\n\n", format_comparison("s (1 - s) ⊙ g", hadamard(diagonal, g), "J^T g",
                                           matmul(transpose(J), g)));

    fmt::print("4. The picture\n");
    std::vector<double> zs, sig, sig_prime;
    for (int k = -80; k <= 80; ++k) {
      zs.push_back(k / 10.0);
      sig.push_back(fn::sigmoid(zs.back()));
      sig_prime.push_back(fn::sigmoid_prime(zs.back()));
    }
    const cli::PlotResult plot = cli::plot_lines(
        outputs.path("sigmoid.png"), "sigmoid and its derivative", "z", "", zs,
        {{"sigmoid(z)", sig}, {"sigmoid'(z) = sigmoid(z) (1 - sigmoid(z))", sig_prime}});
    outputs.commit();
    fmt::print(
        "   sigmoid(z) and sigmoid'(z) for z in [-8, 8], drawn by gnuplot into {}/sigmoid.png\n",
        out.dir);
    // Whether gnuplot is installed depends on the machine, so the result goes to stderr and the
    // lesson on stdout stays the same everywhere (tests/golden/).
    std::fflush(stdout);
    fmt::print(stderr, "   {}\n", cli::final_message(outputs, "sigmoid.png", plot.message));
    return 0;
  });
}
