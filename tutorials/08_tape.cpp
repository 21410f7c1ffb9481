// 08_tape: the network of 05-07 recorded on a tape, a Wengert list. Prints the tape node by node
// (index, op, label, shape), the forward values, then backward() from C and the gradient that
// reached every node. Writes the graph as Graphviz DOT (--dot, default out/tape.dot) and draws
// it to PNG beside it with `dot -Tpng` when graphviz is installed. Needs data/mnist.
// Run: build/tutorials/08_tape [--sample N] [--dot FILE] [--trace [--step]]
// Docs: docs/08_tape.md (中文: docs/zh/08_tape.md)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/article_sample.hpp>
#include <stepgrad/cli/dot.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/output_folder.hpp>
#include <stepgrad/cli/tracer.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/nn/network.hpp>

using namespace stepgrad;

namespace {

// summary() with one difference: a mean that is 0 up to rounding (the entries of O3 - Y sum to
// 0) prints as 0. Its digits would change with the order of a sum, and this output must read the
// same on every machine (tests/golden/).
// With --full, the line is followed by every value.
std::string summarise(const Tensor& t, const cli::CommonOptions& o) {
  const TensorStats s = stats(t);
  const bool zero_mean = std::abs(s.mean) <= 1e-12 * std::max(std::abs(s.min), std::abs(s.max));
  const int p = o.digits;  // significant digits (--digits)
  std::string out = fmt::format("{} min {:.{}g} max {:.{}g} mean {:.{}g} norm {:.{}g}", t.shape(),
                                s.min, p, s.max, p, zero_mean ? 0.0 : s.mean, p, s.norm, p);
  if (s.nan > 0 || s.inf > 0) out += fmt::format(" NaN {} Inf {}", s.nan, s.inf);
  if (o.full) out += "\n" + format_values(t) + "\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("the network on a tape: nodes, values, backward() and every gradient", "08_tape");
  cli::CommonOptions opts;
  opts.dot = "out/tape.dot";  // this tutorial always draws its tape
  cli::add_common_options(app, opts, cli::kArticleSample);
  return cli::run_with_sample(
      app, opts, argc, argv, [&](const cli::ArticleSample& sample, Network& net) {
        if (opts.dot.empty()) throw std::runtime_error("--dot: names no file");
        const std::filesystem::path dot_path(opts.dot);
        if (dot_path.has_parent_path()) {  // before any work: a bad --dot fails at once
          cli::create_output_folder(dot_path.parent_path(), "--dot's folder");
        }
        const Tensor& x = sample.x;  // (784,) O0
        const Tensor& y = sample.y;  // (10,) Y

        Tape tape;
        cli::attach_tracer(tape, opts);
        const TapeForward f = record_forward(tape, net, x, y);
        fmt::print(
            "Sample {}, label {}: eqs. (1)-(4) and both costs, recorded by record_forward\n\n",
            opts.sample, sample.label);

        fmt::print("1. The tape, in the order the nodes were recorded\n");
        fmt::print("  {:>2}  {:<21} {:<36} {}\n", "#", "op", "label", "shape");
        for (std::size_t i = 0; i < tape.size(); ++i)
          fmt::print("  {:>2}  {:<21} {:<36} {}\n", i, tape.node(i).op->name, tape.label(i),
                     tape.node(i).value().shape());
        fmt::print(
            "  Every node comes after its inputs: the list is already in topological order.\n\n");

        fmt::print("2. The forward values\n");
        for (std::size_t i = 0; i < tape.size(); ++i)
          fmt::print("  {:>2}  {:<6} {}\n", i, tape.node(i).name,
                     summarise(tape.node(i).value(), opts));
        fmt::print("\n");

        fmt::print(
            "3. backward(C): one loop from C back to node 0, each op adding its inputs' share\n");
        tape.backward(f.C);
        for (std::size_t i = 0; i < tape.size(); ++i) {
          Node& n = tape.node(i);
          std::string what;
          if (!n.requires_grad) {
            what = "no gradient: data, not differentiated";
          } else if (n.gradient().empty()) {
            what = "no gradient: C does not depend on it";
          } else {
            what = "grad " + summarise(n.grad(), opts);
          }
          fmt::print("  {:>2}  {:<6} {}\n", i, n.name, what);
        }
        fmt::print(
            "  O3 gets none: C = cross_entropy_logits(Z3, Y) reads Z3 directly (softmax and log\n");
        fmt::print(
            "  fused), so dC/dZ3 is exactly O3 - Y, eq. (8). The gradients of W0, W1, W2 stay "
            "in\n");
        fmt::print(
            "  the Parameters for Parameter::sgd_step (eq. 12); 07_deltas printed them as "
            "Delta0,\n");
        fmt::print("  Delta1, Delta2, and 09_gradcheck compares them.\n\n");

        fmt::print("4. The picture\n");
        cli::write_dot(tape, opts.dot);
        return 0;
      });
}
