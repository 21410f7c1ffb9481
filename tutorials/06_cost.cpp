// 06_cost: how wrong is the network on one image? Prints the article's cost, eq. (7), term by
// term for the ten digits, next to the categorical cross-entropy -Y · log O3 that its delta
// equations actually minimise, then the tape's gradient of each with respect to Z3: only the
// categorical one equals O3 - Y, eq. (8) (erratum E2). Needs data/mnist.
// Run: build/tutorials/06_cost [--sample N] [--seed S] [--trace [--step]]
// Docs: docs/06_cost.md (中文: docs/zh/06_cost.md)
#include <cmath>
#include <stdexcept>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/article_sample.hpp>
#include <stepgrad/cli/dot.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/tracer.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/network.hpp>

using namespace stepgrad;

int main(int argc, char** argv) {
  CLI::App app("the article's cost, eq. (7), next to the categorical cross-entropy", "06_cost");
  cli::CommonOptions opts;
  cli::add_common_options(app, opts, cli::kArticleSample);
  return cli::run_with_sample(
      app, opts, argc, argv, [&](const cli::ArticleSample& sample, Network& net) {
        const int p = opts.precision;
        const Tensor& x = sample.x;  // (784,) O0
        const Tensor& y = sample.y;  // (10,) Y

        Tape tape;
        cli::attach_tracer(tape, opts);
        const TapeForward f = record_forward(tape, net, x, y);
        const Tensor& O3 = f.O3.value();  // (10,)
        fmt::print("Sample {}, label {}: the network's O3 (05_forward) against the one-hot Y\n\n",
                   opts.sample, sample.label);

        fmt::print(
            "1. The article's cost, eq. (7): cost = -(Y · log O3 + (1 - Y) · log(1 - O3))\n");
        fmt::print("   {:>5} {:>3} {:>{}} {:>16} {:>24}\n", "digit", "Y", "O3", p + 3, "-Y log O3",
                   "-(1 - Y) log(1 - O3)");
        double right = 0.0, wrong = 0.0;
        for (std::size_t i = 0; i < O3.size(); ++i) {
          const double a = -y[i] * fn::clamped_log(O3[i]);
          const double b = -(1.0 - y[i]) * fn::clamped_log(1.0 - O3[i]);
          right += a;
          wrong += b;
          fmt::print("   {:>5} {:>3.0f} {:>{}.{}f} {:>16.{}f} {:>24.{}f}\n", i, y[i], O3[i], p + 3,
                     p, a, p, b, p);
        }
        fmt::print("   {:>5} {:>3} {:>{}} {:>16.{}f} {:>24.{}f}\n", "sum", "", "", p + 3, right, p,
                   wrong, p);
        fmt::print("   cost (7) = {:.{}f} + {:.{}f} = {:.{}f}\n", right, p, wrong, p, right + wrong,
                   p);
        fmt::print(
            "   The first column punishes a low probability for the right digit, the second a\n");
        fmt::print(
            "   high probability for each wrong one. (Logs are clamped at -100, so a 0 never\n");
        fmt::print("   gives an infinite cost: erratum E5.)\n\n");

        fmt::print("2. The categorical cross-entropy: C = -Y · log O3 = -log O3[label] = {:.{}f}\n",
                   right, p);
        fmt::print(
            "   It is the first column alone: the softmax already makes the wrong digits pay,\n");
        fmt::print("   since the ten probabilities sum to 1.\n\n");

        fmt::print("3. The same two numbers from the tape\n");
        fmt::print("   binary_cross_entropy(O3, Y)  = {:.{}f}   (what the article prints)\n",
                   f.cost.value().item(), p);
        fmt::print("   cross_entropy_logits(Z3, Y)  = {:.{}f}   (what stepgrad trains on)\n",
                   f.C.value().item(), p);
        fmt::print(
            "   by hand (nn/deltas.cpp): article_cost = {:.{}f}, cross_entropy = {:.{}f}\n\n",
            article_cost(O3, y), p, cross_entropy(f.Z3.value(), y), p);

        fmt::print("4. Which cost does the article minimise? Its backward pass starts from\n");
        fmt::print(
            "   delta3 = O3 - Y, eq. (8). The tape differentiates each cost with respect to Z3:\n");
        const Tensor O3_minus_Y = O3 - y;
        tape.backward(f.C);
        const Tensor grad_Z3_of_C = f.Z3.grad();
        net.zero_grad();
        tape.backward(f.cost);
        const Tensor grad_Z3_of_cost = f.Z3.grad();
        fmt::print("{}\n", format_comparison("grad_Z3 of C", grad_Z3_of_C, "O3 - Y", O3_minus_Y));
        fmt::print("{}\n",
                   format_comparison("grad_Z3 of cost (7)", grad_Z3_of_cost, "O3 - Y", O3_minus_Y));
        fmt::print(
            "   O3 - Y is the gradient of the categorical cross-entropy, not of eq. (7): the\n");
        fmt::print("   article minimises C and prints cost (7) (erratum E2).\n");
        if (!opts.dot.empty()) cli::write_dot(tape, opts.dot);  // after backward(cost)
        return 0;
      });
}
