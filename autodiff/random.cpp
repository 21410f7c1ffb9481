// numpy's legacy algorithms (numpy/random/src/legacy, distributions.c), on std::mt19937.
#include <stepgrad/autodiff/random.hpp>

#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace stepgrad {

double RandomState::random_sample() {
  // random_standard_uniform: 27 + 26 bits from two 32-bit outputs.
  const std::uint32_t a = static_cast<std::uint32_t>(engine_()) >> 5;
  const std::uint32_t b = static_cast<std::uint32_t>(engine_()) >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

double RandomState::randn() {
  // legacy_gauss: Marsaglia's polar method; the second value of each pair is cached.
  if (has_gauss_) {
    has_gauss_ = false;
    return gauss_;
  }
  double x1 = 0.0;
  double x2 = 0.0;
  double r2 = 0.0;
  do {
    x1 = 2.0 * random_sample() - 1.0;
    x2 = 2.0 * random_sample() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * std::log(r2) / r2);
  gauss_ = f * x1;
  has_gauss_ = true;
  return f * x2;
}

Tensor RandomState::randn(std::size_t rows, std::size_t cols) {
  Tensor t(Shape::matrix(rows, cols));
  for (double& v : t.values()) v = randn();
  return t;
}

std::uint32_t RandomState::random_interval(std::uint32_t max) {
  if (max == 0) return 0;
  std::uint32_t mask = max;  // smallest all-ones bit mask covering max
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  std::uint32_t value = 0;
  do {
    value = static_cast<std::uint32_t>(engine_()) & mask;
  } while (value > max);
  return value;
}

std::vector<std::size_t> RandomState::permutation(std::size_t n) {
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument("permutation: n must be below 2^32");
  }
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t{0});
  // _shuffle_raw: from the back, swap each slot with a uniform earlier-or-same slot.
  for (std::size_t i = n; i-- > 1;) {
    const std::size_t j = random_interval(static_cast<std::uint32_t>(i));
    std::swap(p[i], p[j]);
  }
  return p;
}

}  // namespace stepgrad
