// 05_forward: one real MNIST image through the untrained network, eqs. (1)-(4). Prints the
// digit as ASCII art, then Z1, O1, Z2, O2 (summarised), Z3 and O3 in full, and the predicted
// digit. The image is sample --sample of the article's training split (needs data/mnist).
// Run: build/tutorials/05_forward [--sample N] [--seed S] [--full] [--trace [--step]]
// Docs: docs/05_forward.md (中文: docs/zh/05_forward.md)
#include <stdexcept>

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
  CLI::App app("one real MNIST image through the network, eqs. (1)-(4)", "05_forward");
  cli::CommonOptions opts;
  cli::add_common_options(app, opts, cli::kArticleSample);
  return cli::run_with_sample(
      app, opts, argc, argv, [&](const cli::ArticleSample& sample, Network& net) {
        const int p = opts.precision;
        const Tensor& x = sample.x;  // (784,) O0
        const Tensor& y = sample.y;  // (10,) Y
        const int label = sample.label;

        fmt::print("Sample {} of the article's training split: MNIST image {} of 70000, label {}\n",
                   opts.sample, sample.pool_index, label);
        fmt::print("{}", cli::ascii_digit(sample.pixels));
        fmt::print("\n");

        Tape tape;
        cli::attach_tracer(tape, opts);
        const TapeForward f = record_forward(tape, net, x, y);

        fmt::print("eq. (1): O0 = X, the 784 pixels / 255 (the picture above, row after row)\n");
        if (opts.full) {
          fmt::print("{}\n\n", show("O0", f.O0.value()));
        } else {
          fmt::print("O0 {}\n\n", summary(f.O0.value()));
        }
        fmt::print("eq. (2): Z1 = W0 · O0, O1 = sigmoid(Z1)\n{}\n{}\n\n", show("Z1", f.Z1.value()),
                   show("O1", f.O1.value()));
        fmt::print("eq. (3): Z2 = W1 · O1, O2 = sigmoid(Z2)\n{}\n{}\n\n", show("Z2", f.Z2.value()),
                   show("O2", f.O2.value()));
        fmt::print("eq. (4): Z3 = W2 · O2, O3 = softmax(Z3)\n{}\n{}\n", show("Z3", f.Z3.value()),
                   show("O3", f.O3.value()));
        fmt::print("sum(O3) = {:.{}f}: ten probabilities, one per digit\n\n", sum(f.O3.value()), p);

        const std::size_t predicted = argmax(f.O3.value());
        fmt::print("Prediction: argmax O3 = {} (probability {:.{}f}); the label is {}: {}.\n",
                   predicted, f.O3.value()[predicted], p, label,
                   predicted == static_cast<std::size_t>(label) ? "right" : "wrong");

        // Why an untrained network gives (nearly) one answer for every image: the same
        // weights on a black image, whose O1 is exactly 0.5 (Z1 = W0 · 0 = 0).
        const ForwardValues black = forward_pass(net, Tensor::zeros(kLayerSizes[0]));
        const std::size_t black_answer = argmax(black.O3);
        fmt::print(
            "\nThe weights are random, and they make Z3 much the same for every image: O1 and O2\n"
            "stay around 0.5, so Z3 = W2 · O2 follows W2 more than the picture. A black image\n"
            "(O0 = 0, so O1 = 0.5 exactly) gets\n{}\nand the answer {}{}\n"
            "Training (10_train) makes the answer depend on the picture.\n",
            show("Z3", black.Z3), black_answer,
            black_answer == predicted
                ? ", the same as this image's: the untrained network gives one answer for\n"
                  "almost any image."
                : ".");
        if (!opts.dot.empty()) cli::write_dot(tape, opts.dot);  // values only: no backward
        return 0;
      });
}
