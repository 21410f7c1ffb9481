// 04_network: the 784-128-64-10 network initialised as the article's nn_init does it:
// W = randn(out, in) * sqrt(1 / out) after np.random.seed(seed). Prints the three weight
// matrices, their first values to the last digit (equal to numpy's, with the Python line that
// shows it), and each layer's standard deviation next to the scale it should have (erratum E4).
// Run: build/tutorials/04_network [--seed S] [--full] [--precision N]
// Docs: docs/04_network.md (中文: docs/zh/04_network.md)
#include <cmath>

#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/nn/network.hpp>

using namespace stepgrad;

int main(int argc, char** argv) {
  CLI::App app("the article's 784-128-64-10 network, initialised like numpy", "04_network");
  cli::CommonOptions opts;
  cli::add_common_options(app, opts, cli::kSeed);
  return cli::run(app, argc, argv, [&] {
    cli::apply_print_options(opts);
    cli::print_header(app);
    const int p = opts.precision;

    const Network net(NetworkOptions{.seed = opts.seed});
    fmt::print("1. The weights, drawn W0 then W1 then W2 from one generator seeded with {}\n",
               opts.seed);
    for (std::size_t l = 0; l < 3; ++l)
      fmt::print("{}\n", show(fmt::format("W{}", l), net.weight(l).value));
    fmt::print("   No biases: the article leaves them out to keep the equations short.\n\n");

    fmt::print("2. The first weights to the last digit, as numpy prints them\n");
    const Tensor& W0 = net.W0.value;
    fmt::print("   W0[0, :3] = [{}, {}, {}]\n", W0(0, 0), W0(0, 1), W0(0, 2));
    fmt::print(
        "   Check: /usr/bin/python3 -c \"import numpy as np; np.random.seed({}); "
        "print((np.random.randn(128, 784) * np.sqrt(1. / 128))[0, :3].tolist())\"\n",
        opts.seed);
    fmt::print(
        "   stepgrad's generator is numpy's MT19937 and its polar Gaussian, bit for bit.\n\n");

    fmt::print("3. The scale: W = randn(out, in) * sqrt(1 / out)\n");
    fmt::print("   {:<4} {:>11} {:>10} {:>18} {:>18}\n", "", "shape", "std", "sqrt(1/out) (E4)",
               "sqrt(1/in) (usual)");
    for (std::size_t l = 0; l < 3; ++l) {
      const Tensor& w = net.weight(l).value;
      const double n = static_cast<double>(w.size());
      const double mean = sum(w) / n;
      double squares = 0.0;
      for (double v : w.values()) squares += (v - mean) * (v - mean);
      fmt::print("   W{:<3} {:>11} {:>10.{}f} {:>18.{}f} {:>18.{}f}\n", l, to_string(w.shape()),
                 std::sqrt(squares / n), p, std::sqrt(1.0 / static_cast<double>(w.rows())), p,
                 std::sqrt(1.0 / static_cast<double>(w.cols())), p);
    }
    fmt::print(
        "   The article scales by the layer's output size. The usual choice (LeCun, Xavier)\n");
    fmt::print(
        "   is the input size, which keeps the variance of Z = W · O near that of O: for W0\n");
    fmt::print(
        "   the article's weights are sqrt(784 / 128) = {:.{}f} times larger (erratum E4).\n",
        std::sqrt(784.0 / 128.0), p);
    return 0;
  });
}
