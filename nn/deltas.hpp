// The article's forward_pass and backward_pass written out by hand as plain matrix code,
// each line citing its equation in docs/derivation.md.
// Hand-derived values are delta*/Delta*; the tape's are grad*. Never mix the words.
#pragma once

#include <string_view>

#include <stepgrad/autodiff/tensor.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad {

/// Which backward equations: the article's code as published, or the correct ones.
/// `fixed` means repaired (erratum E1 fixed), not constant. The name stays because it is the
/// word people type and keep: `--recipe fixed`, the options line in every saved model.npz,
/// the explorer's links (#recipe=fixed), the PyTorch twin's flag and the benchmarks' names
/// (docs/architecture.md, "Names").
/// `article_rescaled` is an experiment, not a recipe anyone published: the article's delta2
/// (its direction) rescaled, for each sample, to the length of the true delta2 (its size), so
/// that a run separates what E1 costs by the size of the steps from what it costs by their
/// direction (docs/12_recipes.md).
enum class Recipe : std::uint8_t {
  article,  ///< eq. (9) with softmax's element-wise "derivative" of Z2 (erratum E1)
  fixed,    ///< eq. (9) with A'(Z2), as the general rule says: the article's code, E1 fixed
  article_rescaled,  ///< the article's delta2 times |delta2 true| / |delta2 article|, per sample
};
template <>
struct EnumNames<Recipe> {
  static constexpr std::array<std::pair<std::string_view, Recipe>, 3> values{
      {{"article", Recipe::article},
       {"fixed", Recipe::fixed},
       {"article-rescaled", Recipe::article_rescaled}}};
};

/// Whether `recipe` uses the article's eq. (9) (erratum E1): article and article_rescaled.
constexpr bool uses_article_eq9(Recipe recipe) { return recipe != Recipe::fixed; }

/// The factor that gives `wrong` the length of `right` (|right| / |wrong|, Frobenius norms, each
/// a sum of squares in element order), 1 when `wrong` is all zero: article_rescaled's delta2 is
/// factor · delta2_article. Reads `count` elements `stride` apart (one column of a minibatch).
double rescale_factor(const double* right, const double* wrong, std::size_t count,
                      std::size_t stride = 1);

/// The values of one forward pass, eqs. (1)-(4): the weighted sums Z and the activations O.
/// Vectors (one sample) or matrices with one sample per column.
struct ForwardValues {
  Tensor O0;      ///< (784,) the input
  Tensor Z1, O1;  ///< (128,)
  Tensor Z2, O2;  ///< (64,)
  Tensor Z3, O3;  ///< (10,)  O3 = softmax(Z3)
};

/// The small deltas dC/dZ and the large deltas dC/dW of eqs. (8)-(11).
struct Deltas {
  Tensor delta3;  ///< (10,)  eq. (8)
  Tensor delta2;  ///< (64,)  eq. (9)
  Tensor delta1;  ///< (128,) eq. (10)
  Tensor Delta2;  ///< (10, 64)   eq. (11)
  Tensor Delta1;  ///< (64, 128)
  Tensor Delta0;  ///< (128, 784)
};

/// eqs. (1)-(4) for x (784,) or a minibatch (784, B).
ForwardValues forward_pass(const Network& net, const Tensor& x);

/// Z3 from a given Z_l (l = 1, 2 or 3): the rest of eqs. (2)-(4), O_l = A(Z_l) onward, at the
/// network's weights. The cost as a function of Z_l alone, for its finite differences.
Tensor forward_from(const Network& net, std::size_t l, const Tensor& Zl);

/// eqs. (8)-(10) only: delta3, delta2 and delta1, the Delta matrices left empty.
Deltas delta_vectors(const Network& net, const ForwardValues& a, const Tensor& y, Recipe recipe);

/// eqs. (8)-(11) for the one-hot label(s) y. For a minibatch the Deltas are averaged over
/// the B samples (as the tape's mean cost gives them).
Deltas backward_pass(const Network& net, const ForwardValues& a, const Tensor& y, Recipe recipe);

/// eq. (12): W_l <- W_l - lr · Delta_l for all three layers (biases: b_l -= lr · delta_{l+1}).
void apply_deltas(Network& net, const Deltas& d, double lr);

/// One SGD step of the hand-derived engine: forward, backward, update. All Deltas come from
/// the weights before the update, as the article does. Returns the forward values.
ForwardValues deltas_sgd_step(Network& net, const Tensor& x, const Tensor& y, Recipe recipe,
                              double lr);

/// The article's softmax(z, derivative=True): s ⊙ (1 - s), only the diagonal of softmax's
/// Jacobian (erratum E3), per column.
Tensor article_softmax_derivative(const Tensor& z);

/// The categorical cross-entropy -Y · log O3 (from Z3, without underflow), averaged over columns.
double cross_entropy(const Tensor& Z3, const Tensor& y);
/// The article's cost, eq. (7), logs clamped at -100, averaged over columns.
double article_cost(const Tensor& O3, const Tensor& y);

}  // namespace stepgrad
