// Fake MNIST for tests that must not depend on the real files: single samples as tensors, and
// uint8 images that light about 19% of their pixels (as MNIST does) with a seeded label each, in
// a Subset like load_split's.
#pragma once

#include <memory>

#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/io/mnist.hpp>

namespace stepgrad::testing {

/// A sample that looks like an MNIST digit when no data is at hand: about 19% of the 784
/// pixels lit with values in (0, 1], like MNIST's, and a random one-hot label (seeded).
struct Sample {
  Tensor x;  ///< (784,)
  Tensor y;  ///< (10,)
};
inline Sample synthetic_sample(std::uint32_t seed) {
  RandomState rng(seed);
  Sample s{Tensor::zeros(kImagePixels), Tensor::zeros(kNumClasses)};
  for (double& v : s.x.values()) {
    if (rng.random_sample() < 0.19) v = 1.0 - rng.random_sample();  // in (0, 1]
  }
  s.y[rng.random_interval(9)] = 1.0;
  return s;
}

/// n synthetic 28x28 digits, seeded.
inline Subset synthetic_digits(std::size_t n, std::uint32_t seed) {
  auto pool = std::make_shared<ImageSet>();
  RandomState rng(seed);
  pool->pixels.resize(n * kImagePixels);
  pool->labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    pool->labels[i] = static_cast<std::uint8_t>(rng.random_interval(9));
    for (std::size_t p = 0; p < kImagePixels; ++p) {
      // a faint stroke pattern that depends on the label, so the digits can be learned
      const bool lit =
          rng.random_sample() < 0.12 + 0.1 * (((p / 28 + p % 28 + pool->labels[i]) % 10) < 3);
      pool->pixels[i * kImagePixels + p] =
          lit ? static_cast<std::uint8_t>(1 + rng.random_interval(254)) : 0;
    }
  }
  std::vector<std::size_t> items(n);
  for (std::size_t i = 0; i < n; ++i) items[i] = i;
  return Subset(pool, items);
}

}  // namespace stepgrad::testing
