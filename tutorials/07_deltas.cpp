// 07_deltas: the backward pass by hand, eqs. (8)-(11) as nn/deltas.cpp writes them: the small
// deltas delta3, delta2, delta1 (dC/dZ) and the large deltas Delta2, Delta1, Delta0 (dC/dW),
// each with its shape and equation; then one step of eq. (12), and the tape's gradients next to
// the hand-derived values. Needs data/mnist.
// Run: build/tutorials/07_deltas [--sample N] [--recipe fixed|article] [--trace [--step]]
// Docs: docs/07_deltas.md (中文: docs/zh/07_deltas.md)
#include <stdexcept>
#include <string_view>

#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/article_sample.hpp>
#include <stepgrad/cli/dot.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/tracer.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/network.hpp>

using namespace stepgrad;

int main(int argc, char** argv) {
  CLI::App app("the backward pass by hand, eqs. (8)-(11)", "07_deltas");
  cli::CommonOptions opts;
  cli::add_common_options(app, opts, cli::kArticleSample);
  Recipe recipe = Recipe::fixed;
  cli::add_choice(app, "--recipe", recipe,
                  "fixed: the correct eq. (9); article: the article's code (erratum E1); "
                  "article-rescaled: the article's delta2 with the true one's length");
  return cli::run_with_sample(
      app, opts, argc, argv, [&](const cli::ArticleSample& sample, Network& net) {
        const int p = opts.precision;
        const Tensor& x = sample.x;  // (784,) O0
        const Tensor& y = sample.y;  // (10,) Y

        const ForwardValues a = forward_pass(net, x);  // eqs. (1)-(4), as in 05_forward
        const Deltas d = backward_pass(net, a, y, recipe);
        fmt::print(
            "Sample {}, label {}; recipe {}. delta_l = dC/dZ_l, Delta_l = dC/dW_l, C = -Y · log "
            "O3\n\n",
            opts.sample, sample.label, to_string(recipe));

        // One value: its equation, its shapes, then the values (numpy-style summary).
        const auto print_value = [](std::string_view eq, std::string_view formula,
                                    std::string_view shapes, std::string_view name,
                                    const Tensor& v) {
          fmt::print("{:<9} {:<40} {}\n{}\n", eq, formula, shapes, show(name, v));
        };
        print_value("eq. (8)", "delta3 = O3 - Y", "(10,)", "delta3", d.delta3);
        fmt::print("\n");
        if (recipe == Recipe::fixed) {
          print_value("eq. (9)", "delta2 = (W2^T · delta3) ⊙ sigmoid'(Z2)",
                      "(64,) = ((64, 10) · (10,)) ⊙ (64,)", "delta2", d.delta2);
        } else if (recipe == Recipe::article) {
          print_value("eq. (9)", "delta2 = (W2^T · delta3) ⊙ s (1 - s)",
                      "s = softmax(Z2): the article's code (E1)", "delta2", d.delta2);
        } else {
          print_value("eq. (9)", "delta2 = f (W2^T · delta3) ⊙ s (1 - s)",
                      "the article's, rescaled: f = |true delta2| / |article's|", "delta2",
                      d.delta2);
        }
        fmt::print("\n");
        print_value("eq. (10)", "delta1 = (W1^T · delta2) ⊙ sigmoid'(Z1)",
                    "(128,) = ((128, 64) · (64,)) ⊙ (128,)", "delta1", d.delta1);
        fmt::print("\n");
        print_value("eq. (11)", "Delta2 = delta3 ⊗ O2", "(10, 64) = (10,) ⊗ (64,), W2's shape",
                    "Delta2", d.Delta2);
        print_value("", "Delta1 = delta2 ⊗ O1", "(64, 128), W1's shape", "Delta1", d.Delta1);
        print_value("", "Delta0 = delta1 ⊗ O0", "(128, 784), W0's shape", "Delta0", d.Delta0);
        fmt::print("Delta0 {}\n", summary(d.Delta0));
        std::size_t dark = 0;
        for (double v : x.values()) dark += v == 0.0 ? 1 : 0;
        fmt::print(
            "          {} of the 784 columns of Delta0 are 0: a black pixel (O0 = 0) does not\n",
            dark);
        fmt::print("          take part in Z1, so its weights get no blame.\n\n");

        const double lr = 0.001;  // the article's t_rate
        Network stepped = net;
        apply_deltas(stepped, d, lr);
        const double before = cross_entropy(a.Z3, y);
        const double after = cross_entropy(forward_pass(stepped, x).Z3, y);
        fmt::print("eq. (12)  W_l <- W_l - lambda Delta_l, lambda = {}: one step on this image\n",
                   lr);
        fmt::print("          C = {:.{}f} before, {:.{}f} after (change {:+.{}e})\n\n", before,
                   p + 2, after, p + 2, after - before, p);

        fmt::print("The tape's gradients (08_tape) next to these hand-derived values\n");
        Tape tape;
        cli::attach_tracer(tape, opts);
        const TapeForward f = tape_gradients(tape, net, x, y);
        const struct {
          const char* delta;
          const Tensor& hand;
          const char* grad;
          const Tensor& tape;
        } pairs[] = {{"delta3", d.delta3, "grad_Z3", f.Z3.grad()},
                     {"delta2", d.delta2, "grad_Z2", f.Z2.grad()},
                     {"delta1", d.delta1, "grad_Z1", f.Z1.grad()},
                     {"Delta2", d.Delta2, "grad_W2", net.W2.grad()},
                     {"Delta1", d.Delta1, "grad_W1", net.W1.grad()},
                     {"Delta0", d.Delta0, "grad_W0", net.W0.grad()}};
        for (const auto& pair : pairs) {
          // Rounding (about 1e-15: the two add the same products in another order) is shown as
          // a bound, so the output reads the same whatever the kernels' summation order.
          const Comparison c = compare(pair.hand, pair.tape);
          fmt::print("  {} vs {}  {:<11} {}\n", pair.delta, pair.grad, to_string(c.shape),
                     c.max_rel <= 1e-12 ? std::string("agree: max rel < 1e-12")
                                        : fmt::format("DIFFER: max |a-b| {:.2e}, max rel {:.2e}",
                                                      c.max_abs, c.max_rel));
        }
        if (uses_article_eq9(recipe))
          fmt::print(
              "The article's delta2 and everything below it differ from the true gradient: see\n"
              "09_gradcheck for by how much.\n");
        if (!opts.dot.empty()) cli::write_dot(tape, opts.dot);
        return 0;
      });
}
