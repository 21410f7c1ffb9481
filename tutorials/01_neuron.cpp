// 01_neuron: one neuron, the article's building block. Z = W · O0 is a weighted sum of the
// inputs, O = sigmoid(Z) squashes it into (0, 1). Prints both computed by hand, then the same
// neuron recorded on a tape, and dO/dW from the tape's backward sweep next to the chain rule.
// Run: build/tutorials/01_neuron [--inputs A,B,C] [--weights A,B,C] [--precision N] [--trace]
//      [--step] [--dot FILE]
// Docs: docs/01_neuron.md (中文: docs/zh/01_neuron.md)
#include <cmath>
#include <vector>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/dot.hpp>
#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/cli/tracer.hpp>

using namespace stepgrad;

int main(int argc, char** argv) {
  CLI::App app("one neuron: weighted sum Z and sigmoid output O, by hand and on a tape",
               "01_neuron");
  cli::CommonOptions opts;
  cli::add_common_options(app, opts, cli::kTrace);
  // Three inputs and one neuron's three weights: one row of a weight matrix (see 03_layer).
  std::vector<double> inputs = {0.5, 0.1, 0.9};
  std::vector<double> weights = {0.4, -0.2, 0.7};
  cli::add_real_list(app, "--inputs", inputs, "the three inputs O0", 3, -100, 100);
  cli::add_real_list(app, "--weights", weights, "the neuron's three weights W", 3, -100, 100);
  return cli::run(app, argc, argv, [&] {
    cli::apply_print_options(opts);
    cli::print_header(app);
    const int p = opts.precision;

    const Tensor O0 = Tensor::vector(inputs);  // (3,)
    Parameter W("W", Tensor::zeros(1, 3));     // (1, 3)
    for (std::size_t i = 0; i < weights.size(); ++i) W.value[i] = weights[i];
    fmt::print("{}\n{}\n\n", show("O0", O0), show("W", W.value));

    fmt::print("By hand, eq. (2) for a single neuron:\n");
    double z = 0.0;
    std::string terms;
    for (std::size_t i = 0; i < O0.size(); ++i) {
      z += W.value[i] * O0[i];
      terms += fmt::format("{}({:.{}f})({:.{}f})", i > 0 ? " + " : "", W.value[i], p, O0[i], p);
    }
    const double o = fn::sigmoid(z);
    fmt::print("  Z = W · O0 = {} = {:.{}f}\n", terms, z, p);
    fmt::print("  O = sigmoid(Z) = 1 / (1 + e^-Z) = {:.{}f}\n\n", o, p);

    Tape tape;
    cli::attach_tracer(tape, opts);
    const Var o0 = tape.input(O0, "O0");
    const Var Z = matmul(tape.param(W), o0).named("Z");
    const Var O = sigmoid(Z).named("O");
    fmt::print("On a tape: {} nodes, each a value and the op that made it\n", tape.size());
    for (std::size_t i = 0; i < tape.size(); ++i)
      fmt::print("  {}  {:<16} {}\n", i, tape.label(i), tape.node(i).value().shape());
    const bool same = std::abs(Z.value()[0] - z) <= 1e-12 && std::abs(O.value()[0] - o) <= 1e-12;
    fmt::print("  Z = {:.{}f}, O = {:.{}f}: {}\n\n", Z.value()[0], p, O.value()[0], p,
               same ? "the same numbers as by hand" : "NOT the numbers computed by hand");

    // How should W change to move O? The chain rule through both ops:
    // dO/dW_i = sigmoid'(Z) · O0_i, and sigmoid'(Z) = O (1 - O) (eq. 5).
    tape.backward(O);
    Tensor by_hand(W.value.shape());
    for (std::size_t i = 0; i < O0.size(); ++i) by_hand[i] = o * (1.0 - o) * O0[i];
    fmt::print("Backward: dO/dW from the tape, and by the chain rule O (1 - O) O0^T\n");
    fmt::print("{}\n", show("grad_W", W.grad()));
    fmt::print("{}\n", show("O (1 - O) O0^T", by_hand));
    fmt::print(
        "  sigmoid'(Z) = O (1 - O) = {:.{}f}; each weight's gradient is that times its input,\n",
        o * (1.0 - o), p);
    const std::size_t largest = argmax(O0);
    fmt::print("  so the weight of the largest input (O0[{}] = {:.{}f}) moves O the most.\n",
               largest, O0[largest], p);
    if (!opts.dot.empty()) cli::write_dot(tape, opts.dot);
    return 0;
  });
}
