// RandomState: numpy's legacy generator (np.random.seed / RandomState), bit for bit, so a
// seed gives the same weights and the same data split as the article's Python code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad {

// Note [numpy-compatible randomness]
// std::normal_distribution, std::uniform_*_distribution and std::shuffle are
// implementation-defined (R18 in docs/reliability.md), so stepgrad never uses them. std::mt19937 is
// exactly specified and seeded exactly as np.random.seed(s) seeds MT19937 (init_genrand);
// on top of it, RandomState repeats numpy's legacy algorithms: 53-bit doubles, the polar
// Gaussian with its cached second value, and masked-rejection integers for shuffling.

/// numpy.random.RandomState(seed), for the draws stepgrad needs.
class RandomState {
 public:
  explicit RandomState(std::uint32_t seed) : engine_(seed) {}

  /// np.random.random_sample(): uniform in [0, 1) with 53 random bits.
  double random_sample();
  /// np.random.randn(): standard normal, polar method (two values per accepted pair).
  double randn();
  /// np.random.randn(rows, cols): filled in row-major order.
  Tensor randn(std::size_t rows, std::size_t cols);
  /// Uniform integer in [0, max], numpy's masked rejection on 32-bit draws (max < 2^32).
  std::uint32_t random_interval(std::uint32_t max);
  /// np.random.permutation(n): 0..n-1 shuffled as numpy's legacy shuffle does it.
  std::vector<std::size_t> permutation(std::size_t n);

 private:
  std::mt19937 engine_;
  bool has_gauss_ = false;
  double gauss_ = 0.0;
};

}  // namespace stepgrad
