// 08_tape: the network of 05-07 recorded on a tape, a Wengert list. Prints the tape node by node
// (index, op, label, shape), the forward values, then backward() from C and the gradient that
// reached every node. Writes the graph as Graphviz DOT (--dot, default out/tape.dot) and draws
// it to PNG beside it with `dot -Tpng` when graphviz is installed. Needs data/mnist.
// Run: build/tutorials/08_tape [--sample N] [--dot FILE] [--trace [--step]]
#include <fcntl.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <stepgrad/autodiff/graphviz.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/io/files.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/io/process.hpp>
#include <stepgrad/nn/network.hpp>
#include "common.hpp"

using namespace stepgrad;

namespace {

// Runs `dot -Tpng -o png dot_file`; returns one line saying what came of it.
std::string render_png(const std::filesystem::path& dot_file, const std::filesystem::path& png) {
  const std::string dot_path = dot_file.string(), png_path = png.string();
  const Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  ChildProcess dot("dot", {"-Tpng", "-o", png_path, dot_path}, null.get(), null.get());
  if (dot.error() == ENOENT)
    return fmt::format("{} not drawn: graphviz is not installed (apt-get install graphviz)",
                       png_path);
  if (dot.error() != 0)
    return fmt::format("{} not drawn: cannot run dot: {}", png_path, errno_text(dot.error()));
  const int status = dot.wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !std::filesystem::exists(png))
    return fmt::format("{} not drawn: dot failed ({})", png_path, describe_status(status));
  return fmt::format("wrote {} (dot -Tpng {} -o {})", png_path, dot_path, png_path);
}

// summary() with one difference: a mean that is 0 up to rounding (the entries of O3 - Y sum to
// 0) prints as 0. Its digits would change with the order of a sum, and this output must read the
// same on every machine (tests/golden/).
std::string summarise(const Tensor& t) {
  const TensorStats s = stats(t);
  const bool zero_mean = std::abs(s.mean) <= 1e-12 * std::max(std::abs(s.min), std::abs(s.max));
  std::string out = fmt::format("{} min {:.4g} max {:.4g} mean {:.4g} norm {:.4g}", t.shape(),
                                s.min, s.max, zero_mean ? 0.0 : s.mean, s.norm);
  if (s.nan > 0 || s.inf > 0) out += fmt::format(" NaN {} Inf {}", s.nan, s.inf);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("the network on a tape: nodes, values, backward() and every gradient", "08_tape");
  tutorial::CommonOptions opts;
  tutorial::add_common_options(app, opts, tutorial::kArticleSample);
  std::string dot_file = "out/tape.dot";
  app.add_option("--dot", dot_file, "Graphviz file to write (the PNG goes beside it)")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            const std::filesystem::path p(text);
            return p.has_filename() && !std::filesystem::is_directory(p)
                       ? ""
                       : "names a folder, not a file";
          },
          "FILE"))
      ->capture_default_str();
  return tutorial::run_with_sample(
      app, opts, argc, argv, [&](const tutorial::ArticleSample& sample, Network& net) {
        const std::filesystem::path dot_path(dot_file);
        if (dot_path.has_parent_path()) {
          tutorial::create_output_folder(dot_path.parent_path(), "--dot's folder");
        }
        const Tensor& x = sample.x;  // (784,) O0
        const Tensor& y = sample.y;  // (10,) Y

        Tape tape;
        tutorial::attach_tracer(tape, opts);
        const TapeForward f = record_forward(tape, net, x, y);
        tape.announce();
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
          fmt::print("  {:>2}  {:<6} {}\n", i, tape.node(i).name, summarise(tape.node(i).value()));
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
            what = "grad " + summarise(n.grad());
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
        write_file_atomic(dot_path, to_dot(tape));  // never a half-written file (R16)
        std::size_t edges = 0;
        for (std::size_t i = 0; i < tape.size(); ++i)
          edges +=
              (tape.node(i).a != Node::kNone ? 1u : 0u) + (tape.node(i).b != Node::kNone ? 1u : 0u);
        fmt::print(
            "  wrote {}: {} nodes, {} edges, each node with its value and gradient summary\n",
            dot_file, tape.size(), edges);
        // Whether graphviz is installed depends on the machine: that line goes to stderr, so the
        // lesson on stdout is the same everywhere (tests/golden/).
        std::fflush(stdout);
        fmt::print(stderr, "  {}\n",
                   render_png(dot_path, std::filesystem::path(dot_path).replace_extension(".png")));
        return 0;
      });
}
