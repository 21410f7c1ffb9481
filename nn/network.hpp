// The article's network: 784-128-64-10, no biases, sigmoid hidden layers, softmax output,
// in its notation (W0..W2, Z1..Z3, O0..O3, column vectors, W is out x in), recorded on a tape.
// Options (biases, hidden activation, init scale) are off by default: the default is the article.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/enum_names.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/autodiff/tape.hpp>

namespace stepgrad {

/// The hidden layers' activation A (the article: sigmoid).
enum class Activation : std::uint8_t { sigmoid, tanh, relu };
/// Which layer size scales the initial weights: the article's fan-out (erratum E4) or fan-in.
enum class InitScale : std::uint8_t { fan_out, fan_in };

template <>
struct EnumNames<Activation> {
  static constexpr std::array<std::pair<std::string_view, Activation>, 3> values{
      {{"sigmoid", Activation::sigmoid}, {"tanh", Activation::tanh}, {"relu", Activation::relu}}};
};
template <>
struct EnumNames<InitScale> {
  static constexpr std::array<std::pair<std::string_view, InitScale>, 2> values{
      {{"fan-out", InitScale::fan_out}, {"fan-in", InitScale::fan_in}}};
};

/// Layer sizes: O0 (784) -> O1 (128) -> O2 (64) -> O3 (10).
inline constexpr std::array<std::size_t, 4> kLayerSizes{784, 128, 64, 10};

struct NetworkOptions {
  bool bias = false;  ///< the article has none
  Activation activation = Activation::sigmoid;
  InitScale init = InitScale::fan_out;  ///< the article's sqrt(1 / out)
  std::uint32_t seed = 42;              ///< np.random.seed(seed) before nn_init

  /// "bias=false activation=sigmoid init=fan-out seed=42": stored in model files.
  std::string describe() const;
  bool operator==(const NetworkOptions&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const NetworkOptions& o) {
  return os << o.describe();
}

/// The weights (and, with --bias, biases) of the article's network.
class Network {
 public:
  /// Initialised as the article's nn_init after np.random.seed(seed):
  /// W = randn(out, in) * sqrt(1 / out), drawn in the order W0, W1, W2. Biases start at 0.
  explicit Network(const NetworkOptions& options = {});

  const NetworkOptions& options() const { return options_; }

  Parameter W0;  ///< (128, 784)
  Parameter W1;  ///< (64, 128)
  Parameter W2;  ///< (10, 64)
  Parameter b0;  ///< (128,), used only with options().bias
  Parameter b1;  ///< (64,)
  Parameter b2;  ///< (10,)

  /// W0, W1, W2 (then b0, b1, b2 with biases): the order of every report and file.
  std::vector<Parameter*> parameters();
  std::vector<const Parameter*> parameters() const;
  /// The weight of layer l (0, 1, 2) and its bias.
  Parameter& weight(std::size_t l);
  const Parameter& weight(std::size_t l) const;
  Parameter& bias(std::size_t l);
  void zero_grad();
  /// How many numbers parameters() holds: 109,184 for the article's network (+202 biases).
  std::size_t parameter_count() const;

 private:
  NetworkOptions options_;
};

/// A(z), the hidden activation of one element (sigmoid: eq. 5).
double activation(Activation a, double z);

/// The article's nn_init for one layer: randn(out, in) · sqrt(1 / out), or sqrt(1 / in) with
/// InitScale::fan_in, the next draws of `rng`.
Tensor init_weight(RandomState& rng, std::size_t out, std::size_t in, InitScale scale);
/// A'(z), its derivative (sigmoid' = s (1 - s), eq. 5).
double activation_prime(Activation a, double z);

/// One forward pass on a tape, every value reachable by its article name.
struct TapeForward {
  Var O0, Z1, O1, Z2, O2, Z3, O3;  ///< eqs. (1)-(4)
  Var Y;                           ///< one-hot label(s)
  Var C;     ///< categorical cross-entropy -Y · log O3, what training minimises (eq. 8's cost)
  Var cost;  ///< the article's printed cost, eq. (7) (not on the path of C's gradient)
};

/// Records eqs. (1)-(4) and both costs for input x (784,) and one-hot y (10,), or for a
/// minibatch: x (784, B), y (10, B), one sample per column. For a minibatch C and cost are
/// means over the B samples, so the gradient is the average gradient.
TapeForward record_forward(Tape& tape, Network& net, const Tensor& x, const Tensor& y);

}  // namespace stepgrad
