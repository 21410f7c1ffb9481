// The three-way gradient cross-check (tape == hand-derived deltas == finite differences) and
// the measurements of the article's errata. Tests assert on these reports; tutorials print them.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad {

/// The tape's gradients of the categorical cross-entropy C for one sample (or a minibatch),
/// left in the network's Parameters (after zero_grad). Returns the forward values.
TapeForward tape_gradients(Tape& tape, Network& net, const Tensor& x, const Tensor& y);

/// One parameter's three-way agreement.
struct GradientAgreement {
  std::string name;                 ///< "W0"
  std::string delta_name;           ///< "Delta0" (or "delta1" for the bias b0)
  Comparison tape_vs_deltas;        ///< grad_W vs the `fixed` recipe's Delta
  GradCheckReport tape_vs_numeric;  ///< grad_W vs finite differences of C
};

struct CrossCheck {
  double loss = 0.0;                          ///< C at these weights
  std::vector<GradientAgreement> parameters;  ///< W0, W1, W2 (and b0, b1, b2 with biases)
  /// tape == deltas to rtol_deltas and tape == finite differences (their own rtol, 1e-7).
  bool passed(double rtol_deltas = 1e-12) const;
};

/// tape gradients vs the `fixed` deltas vs finite differences (max_elements per parameter,
/// 0 = every element) for one sample.
CrossCheck cross_check(Network& net, const Tensor& x, const Tensor& y,
                       std::size_t max_elements = 0);

/// Erratum E1 for one weight: the `article` recipe's Delta against the true gradient.
struct DeltaDistortion {
  std::string name;   ///< "Delta1"
  double norm_ratio;  ///< |Delta_article| / |Delta_true| (Frobenius norms)
  double cosine;      ///< <Delta_article, Delta_true> / (|.| |.|)
  Comparison cmp;     ///< Delta_article vs Delta_true
};
/// Delta2, Delta1, Delta0 of the `article` recipe against the `fixed` one for one sample.
std::vector<DeltaDistortion> measure_erratum_e1(const Network& net, const Tensor& x,
                                                const Tensor& y);
std::string format_erratum_e1(const std::vector<DeltaDistortion>& ds);

/// Where one layer stands at a moment of training, against its initial weights. The gradients
/// are per sample (the size of one step of the article's SGD, before lambda), averaged over a
/// probe set, at the weights of that moment; |.| is the Frobenius norm.
struct LayerStats {
  double weight_change = 0.0;  ///< |W_l - W_l(initial)|
  double step_norm = 0.0;    ///< mean |Delta_l| of the recipe being trained: what eq. (12) applies
  double true_norm = 0.0;    ///< mean |dC/dW_l|, the `fixed` recipe's Delta_l
  double cosine = 0.0;       ///< mean cosine between that Delta_l and dC/dW_l (1 for `fixed`)
  double units_alike = 0.0;  ///< mean_row_cosine(W_l - W_l(initial)): how alike the units moved
};

/// The three layers at the end of an epoch (epoch 0: the initial weights).
struct LayerReport {
  std::size_t epoch = 0;
  std::array<LayerStats, 3> layers;  ///< W0, W1, W2
  /// How many of Z2's 64 units carry the recipe's delta2 (eq. 9), as the participation ratio
  /// (sum |delta2_k|)^2 / sum delta2_k^2, averaged over the probe: 64 if all carry it equally,
  /// 1 if one unit carries it all.
  double delta2_units = 0.0;
};

/// Measures `net` on a probe set, X (784, n) and one-hot Y (10, n) with one sample per column,
/// against its initial weights (W0, W1, W2): both recipes' eqs. (8)-(11) for every probe
/// sample, one at a time, at the current weights.
LayerReport measure_layers(const Network& net, const std::array<Tensor, 3>& initial,
                           const Tensor& X, const Tensor& Y, Recipe recipe, std::size_t epoch);

/// The mean cosine over all pairs of rows of D (n, m): near 0 for rows pointing every which way,
/// 1 when every row is a positive multiple of one pattern. Rows that are all zero are left out;
/// 0 when fewer than two rows are left.
double mean_row_cosine(const Tensor& D);

/// layers.csv: the header line, then one line per LayerReport.
std::string layers_csv_header();
std::string layers_csv_line(const LayerReport& r);

}  // namespace stepgrad
