// One image of the article's training split, as tutorials 05-09 take it (--sample), how they
// begin (run_with_sample), and a digit drawn as text.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include <stepgrad/autodiff/tensor.hpp>
#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad::cli {

/// One image of the article's training split, as tutorials 05-09 use it.
struct ArticleSample {
  Tensor x;  ///< (784,) the pixels / 255: O0
  Tensor y;  ///< (10,) one-hot: Y
  int label = 0;
  std::size_t pool_index = 0;        ///< its place among MNIST's 70,000 images
  std::vector<std::uint8_t> pixels;  ///< (784,) 0..255, for ascii_digit
};
/// Loads the article's split from o.data and takes training sample o.sample; a missing folder
/// or a --sample past the end is an exception with a one-line message.
ArticleSample load_article_sample(const CommonOptions& o);

/// A 28x28 digit as text, two characters per pixel from " .:-=+*#%@" (brighter pixel, denser
/// character), each row between bars and prefixed by `indent`.
std::string ascii_digit(std::span<const std::uint8_t> pixels, std::string_view indent = "  ");

/// How tutorials 05-09 begin, once: run() with a body that first applies --full and
/// --precision, loads sample --sample of the article's split, prints the header, initialises
/// the network with --seed, then calls body(sample, net). `opts` needs kArticleSample.
template <class Body>
int run_with_sample(CLI::App& app, CommonOptions& opts, int argc, char** argv, Body body) {
  return run(app, argc, argv, [&] {
    apply_print_options(opts);
    const ArticleSample sample = load_article_sample(opts);
    print_header(app);
    Network net(NetworkOptions{.seed = opts.seed});
    return body(sample, net);
  });
}

}  // namespace stepgrad::cli
