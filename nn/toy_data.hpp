// Toy data sets for networks of your own, drawn from numpy's RandomState as scikit-learn draws
// them. Samples are columns, as everywhere in stepgrad. Uses autodiff/ alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad {

/// Points in the plane with a class each.
struct LabelledPoints {
  Tensor X;            ///< (2, n): sample i is column i, (x, y)
  std::vector<int> y;  ///< (n,): 0 or 1
};

/// scikit-learn's make_moons(n, noise=noise, random_state=seed): two interleaved half circles,
/// n / 2 points on the upper one (class 0) and the rest on the lower one (class 1), shuffled by
/// RandomState(seed).permutation(n), then Gaussian noise of standard deviation `noise` added to
/// every coordinate from the same generator. The shuffle and the noise are numpy's draws bit for
/// bit; the points on the circles come from the C library's cos and sin, which can differ from
/// numpy's by an ulp or so (docs/13_your_network.md says by how much).
LabelledPoints make_moons(std::size_t n, double noise, std::uint32_t seed);

}  // namespace stepgrad
