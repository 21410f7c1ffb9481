// The article's sample, and a digit as text.
#include <stepgrad/cli/article_sample.hpp>

#include <stdexcept>

#include <fmt/format.h>

#include <stepgrad/io/mnist.hpp>

namespace stepgrad::cli {

ArticleSample load_article_sample(const CommonOptions& o) {
  const Split split = load_split(o.data, SplitKind::article);
  if (o.sample >= split.train.size()) {
    throw std::out_of_range(
        fmt::format("--sample {}: the article's training split has {} images, 0 to {}", o.sample,
                    split.train.size(), split.train.size() - 1));
  }
  ArticleSample s;
  split.train.input(o.sample, s.x);
  split.train.one_hot(o.sample, s.y);
  s.label = split.train.label(o.sample);
  s.pool_index = split.train.index(o.sample);
  const auto px = split.train.pixels(o.sample);
  s.pixels.assign(px.begin(), px.end());
  return s;
}

std::string ascii_digit(std::span<const std::uint8_t> pixels, std::string_view indent) {
  constexpr std::string_view kRamp = " .:-=+*#%@";
  constexpr std::size_t kSide = 28;
  std::string out;
  for (std::size_t r = 0; r < kSide; ++r) {
    out += indent;
    out += '|';
    for (std::size_t c = 0; c < kSide; ++c)
      out.append(2, kRamp[pixels[r * kSide + c] * kRamp.size() / 256]);
    out += "|\n";
  }
  return out;
}

}  // namespace stepgrad::cli
