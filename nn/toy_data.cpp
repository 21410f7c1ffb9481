// make_moons, line by line as scikit-learn 1.2 writes it (sklearn/datasets/_samples_generator.py).
#include <stepgrad/nn/toy_data.hpp>

#include <cmath>
#include <numbers>

#include <stepgrad/autodiff/random.hpp>

namespace stepgrad {

namespace {
// np.linspace(0, pi, m): i * (pi / (m - 1)), and exactly pi at the end.
std::vector<double> linspace_to_pi(std::size_t m) {
  std::vector<double> t(m, 0.0);
  if (m < 2) return t;
  const double step = std::numbers::pi / static_cast<double>(m - 1);
  for (std::size_t i = 0; i < m; ++i) t[i] = static_cast<double>(i) * step;
  t[m - 1] = std::numbers::pi;
  return t;
}
}  // namespace

LabelledPoints make_moons(std::size_t n, double noise, std::uint32_t seed) {
  const std::size_t n_out = n / 2, n_in = n - n_out;
  std::vector<double> xs, ys;
  std::vector<int> labels;
  for (double t : linspace_to_pi(n_out)) {  // the upper moon, class 0
    xs.push_back(std::cos(t));
    ys.push_back(std::sin(t));
    labels.push_back(0);
  }
  for (double t : linspace_to_pi(n_in)) {  // the lower moon, class 1
    xs.push_back(1.0 - std::cos(t));
    ys.push_back(1.0 - std::sin(t) - 0.5);
    labels.push_back(1);
  }
  RandomState rng(seed);
  const std::vector<std::size_t> order = rng.permutation(n);  // sklearn.utils.shuffle
  LabelledPoints p{Tensor::zeros(2, n), std::vector<int>(n)};
  for (std::size_t i = 0; i < n; ++i) {
    p.X(0, i) = xs[order[i]];
    p.X(1, i) = ys[order[i]];
    p.y[i] = labels[order[i]];
  }
  // generator.normal(scale=noise, size=(n, 2)): row-major, so x then y of each sample
  for (std::size_t i = 0; i < n; ++i) {
    p.X(0, i) += 0.0 + noise * rng.randn();
    p.X(1, i) += 0.0 + noise * rng.randn();
  }
  return p;
}

}  // namespace stepgrad
