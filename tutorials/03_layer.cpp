// 03_layer: one layer is many neurons side by side, and their weight rows stack into a matrix:
// Z = W · O computes every neuron's weighted sum at once. Prints a small layer (3 neurons,
// 4 inputs) with one row checked by hand, then the article's three layers and why W0 is 128x784.
// Run: build/tutorials/03_layer [--inputs A,B,C,D] [--weights W00,W01,...,W23] [--precision N]
//      [--trace]
// Docs: docs/03_layer.md (中文: docs/zh/03_layer.md)
#include <cmath>
#include <vector>

#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/dot.hpp>
#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/cli/tracer.hpp>
#include <stepgrad/nn/network.hpp>

using namespace stepgrad;

int main(int argc, char** argv) {
  CLI::App app("one layer in matrix form, and the shapes of the article's three layers",
               "03_layer");
  cli::CommonOptions opts;
  cli::add_common_options(app, opts, cli::kTrace);
  std::vector<double> inputs = {0.0, 0.5, 1.0, 0.25};  // the previous layer's outputs
  std::vector<double> weights = {0.2, -0.5, 0.1, 0.4, -0.3, 0.8, 0.2, -0.1, 0.6, 0.1, -0.7, 0.3};
  cli::add_real_list(app, "--inputs", inputs, "the four inputs O of part 1", 4, -100, 100);
  cli::add_real_list(app, "--weights", weights, "part 1's W (3, 4), row by row: 12 numbers", 12,
                     -100, 100);
  return cli::run(app, argc, argv, [&] {
    cli::apply_print_options(opts);
    cli::print_header(app);
    const int p = opts.precision;

    fmt::print("1. A layer of 3 neurons with 4 inputs. Row i of W holds neuron i's weights.\n");
    const Tensor O = Tensor::vector(inputs);  // (4,)
    Parameter W("W", Tensor::zeros(3, 4));    // (3, 4): neurons x inputs
    for (std::size_t i = 0; i < weights.size(); ++i) W.value[i] = weights[i];
    Tape tape;
    cli::attach_tracer(tape, opts);
    const Var Z = matmul(tape.param(W), tape.input(O, "O")).named("Z");  // (3,)
    const Var A = sigmoid(Z).named("A");  // (3,): the layer's outputs
    fmt::print("{}\n{}\n{}\n", show("O", O), show("W", W.value), show("Z = W · O", Z.value()));
    std::string terms;
    double z1 = 0.0;
    for (std::size_t j = 0; j < O.size(); ++j) {
      z1 += W.value(1, j) * O[j];
      terms += fmt::format("{}({:.{}f})({:.{}f})", j > 0 ? " + " : "", W.value(1, j), p, O[j], p);
    }
    fmt::print("   neuron 1 by hand (row 1 of W times O):\n   {} = {:.{}f}\n", terms, z1, p);
    fmt::print("{}\n", show("A = sigmoid(Z), element by element", A.value()));
    if (!opts.dot.empty()) cli::write_dot(tape, opts.dot);
    fmt::print(
        "   Shapes: (3, 4) · (4,) -> (3,). The inner sizes must match: one weight per input.\n\n");

    fmt::print(
        "2. The article's network, eqs. (2)-(4). W_l is (neurons of this layer, neurons of\n");
    fmt::print(
        "   the previous layer), so W_l · O_l has one entry per neuron of the next layer.\n");
    const Network net;
    fmt::print("   {:<14} {:<30} {:>7}\n", "equation", "shapes", "weights");
    std::size_t total = 0;
    for (std::size_t l = 0; l < 3; ++l) {
      const Shape& s = net.weight(l).value.shape();
      total += s.size();
      fmt::print("   Z{} = W{} · O{}   {:<30} {:>7}\n", l + 1, l, l,
                 fmt::format("{} · ({},) -> ({},)", s, s.cols, s.rows), s.size());
    }
    fmt::print("   {} weights in all. W0 is 128x784 because each of the 128 neurons of the first\n",
               total);
    fmt::print("   layer has one weight for each of the 28 x 28 = 784 pixels of the image.\n\n");

    fmt::print("3. Several samples at once: put them side by side as columns.\n");
    const Tensor two =
        Tensor::matrix({{0.0, 1.0}, {0.5, 0.0}, {1.0, 0.5}, {0.25, 0.75}});  // (4, 2)
    fmt::print("{}\n{}\n", show("O, two samples as columns", two),
               show("W · O", matmul(W.value, two)));
    fmt::print(
        "   Column 0 is the Z above: (3, 4) · (4, 2) -> (3, 2). The article trains one sample\n");
    fmt::print("   (one column) at a time.\n");
    return 0;
  });
}
