// The cross-check: three independent routes to dC/dW, and how far the article's route strays.
#include <stepgrad/nn/crosscheck.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace stepgrad {

TapeForward tape_gradients(Tape& tape, Network& net, const Tensor& x, const Tensor& y) {
  tape.clear();
  net.zero_grad();
  const TapeForward f = record_forward(tape, net, x, y);
  tape.backward(f.C);
  return f;
}

namespace {
// The hand-derived counterpart of each parameter: Delta_l for W_l, delta_{l+1} for b_l.
const Tensor& hand_derived(const Deltas& d, std::size_t k) {
  const Tensor* table[] = {&d.Delta0, &d.Delta1, &d.Delta2, &d.delta1, &d.delta2, &d.delta3};
  return *table[k];
}
constexpr const char* kHandNames[] = {"Delta0", "Delta1", "Delta2", "delta1", "delta2", "delta3"};
}  // namespace

CrossCheck cross_check(Network& net, const Tensor& x, const Tensor& y, std::size_t max_elements) {
  Tape tape;
  tape_gradients(tape, net, x, y);
  const ForwardValues a = forward_pass(net, x);
  const Deltas d = backward_pass(net, a, y, Recipe::fixed);
  CrossCheck c;
  c.loss = cross_entropy(a.Z3, y);
  GradCheckOptions opts;
  opts.max_elements = max_elements;
  const auto loss = [&] { return cross_entropy(forward_pass(net, x).Z3, y); };
  std::size_t k = 0;
  for (Parameter* p : net.parameters()) {
    GradientAgreement g;
    g.name = p->name;
    g.delta_name = kHandNames[k];
    const Tensor grad = p->grad();
    g.tape_vs_deltas = compare(grad, hand_derived(d, k));
    g.tape_vs_numeric = check_gradient(p->name, loss, p->value, grad, opts);
    c.parameters.push_back(std::move(g));
    ++k;
  }
  return c;
}

bool CrossCheck::passed(double rtol_deltas) const {
  for (const GradientAgreement& g : parameters) {
    if (!g.tape_vs_deltas.finite || g.tape_vs_deltas.max_rel > rtol_deltas ||
        !g.tape_vs_numeric.passed) {
      return false;
    }
  }
  return true;
}

std::vector<DeltaDistortion> measure_erratum_e1(const Network& net, const Tensor& x,
                                                const Tensor& y) {
  const ForwardValues a = forward_pass(net, x);
  const Deltas right = backward_pass(net, a, y, Recipe::fixed);
  const Deltas wrong = backward_pass(net, a, y, Recipe::article);
  std::vector<DeltaDistortion> out;
  for (std::size_t k : {2u, 1u, 0u}) {
    const Tensor& w = hand_derived(wrong, k);
    const Tensor& r = hand_derived(right, k);
    const double nw = std::sqrt(sum(hadamard(w, w)));
    const double nr = std::sqrt(sum(hadamard(r, r)));
    out.push_back({kHandNames[k], nw / nr, sum(hadamard(w, r)) / (nw * nr), compare(w, r)});
  }
  return out;
}

std::string format_erratum_e1(const std::vector<DeltaDistortion>& ds) {
  std::string out =
      fmt::format("{:<8} {:>22} {:>8} {:>12}\n", "", "|article| / |true|", "cosine", "max rel");
  for (const DeltaDistortion& d : ds) {
    out += fmt::format("{:<8} {:>13.4f} (1/{:<5.1f}) {:>8.4f} {:>12.2e}\n", d.name, d.norm_ratio,
                       1.0 / d.norm_ratio, d.cosine, d.cmp.max_rel);
  }
  out.pop_back();
  return out;
}

namespace {

// Sample k of a probe set: column k of M as a vector.
void column(const Tensor& M, std::size_t k, Tensor& v) {
  v.resize(Shape::vector(M.rows()));
  for (std::size_t i = 0; i < M.rows(); ++i) v[i] = M(i, k);
}

// The Frobenius inner product and norm.
double dot(const Tensor& a, const Tensor& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
double norm(const Tensor& t) { return std::sqrt(dot(t, t)); }

}  // namespace

double mean_row_cosine(const Tensor& D) {
  if (D.rank() != 2) throw std::invalid_argument("mean_row_cosine: D must be a matrix");
  const std::size_t n = D.rows(), m = D.cols();
  std::vector<double> norms(n);
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0.0;
    for (std::size_t k = 0; k < m; ++k) s += D(i, k) * D(i, k);
    norms[i] = std::sqrt(s);
  }
  double total = 0.0;
  std::size_t pairs = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (norms[i] == 0.0) continue;
    for (std::size_t j = i + 1; j < n; ++j) {
      if (norms[j] == 0.0) continue;
      double s = 0.0;
      for (std::size_t k = 0; k < m; ++k) s += D(i, k) * D(j, k);
      total += s / (norms[i] * norms[j]);
      ++pairs;
    }
  }
  return pairs == 0 ? 0.0 : total / static_cast<double>(pairs);
}

LayerReport measure_layers(const Network& net, const std::array<Tensor, 3>& initial,
                           const Tensor& X, const Tensor& Y, Recipe recipe, std::size_t epoch) {
  if (X.rank() != 2 || Y.rank() != 2 || X.cols() != Y.cols()) {
    throw std::invalid_argument(
        "measure_layers: X and Y must be matrices with one sample per column");
  }
  const std::size_t samples = X.cols();
  LayerReport r;
  r.epoch = epoch;
  for (std::size_t l = 0; l < 3; ++l) {
    const Tensor change = net.weight(l).value - initial[l];
    r.layers[l].weight_change = norm(change);
    r.layers[l].units_alike = mean_row_cosine(change);
  }
  std::array<std::size_t, 3> with_cosine{};  // samples whose two gradients are both non-zero
  std::size_t with_delta2 = 0;
  Tensor x;
  Tensor y;
  for (std::size_t i = 0; i < samples; ++i) {
    column(X, i, x);
    column(Y, i, y);
    const ForwardValues a = forward_pass(net, x);
    const Deltas step = delta_vectors(net, a, y, recipe);
    const Deltas truth =
        recipe == Recipe::fixed ? Deltas{} : delta_vectors(net, a, y, Recipe::fixed);
    // Delta_l = delta_{l+1} ⊗ O_l (eq. 11) is never formed: |u ⊗ O| = |u| |O|, and two steps
    // that share O_l have the cosine of their deltas (<u ⊗ O, w ⊗ O> = <u, w> |O|^2).
    const std::array<const Tensor*, 3> steps{&step.delta1, &step.delta2, &step.delta3};
    const std::array<const Tensor*, 3> truths =
        recipe == Recipe::fixed ? steps : std::array{&truth.delta1, &truth.delta2, &truth.delta3};
    const std::array<const Tensor*, 3> inputs{&a.O0, &a.O1, &a.O2};
    for (std::size_t l = 0; l < 3; ++l) {
      const double o = norm(*inputs[l]);
      const double su = norm(*steps[l]), tu = norm(*truths[l]);
      r.layers[l].step_norm += su * o;
      r.layers[l].true_norm += tu * o;
      if (su * o > 0.0 && tu * o > 0.0) {
        r.layers[l].cosine += dot(*steps[l], *truths[l]) / (su * tu);
        ++with_cosine[l];
      }
    }
    double sum_abs = 0.0, sum_sq = 0.0;
    for (std::size_t k = 0; k < step.delta2.size(); ++k) {
      sum_abs += std::abs(step.delta2[k]);
      sum_sq += step.delta2[k] * step.delta2[k];
    }
    if (sum_sq > 0.0) {
      r.delta2_units += sum_abs * sum_abs / sum_sq;
      ++with_delta2;
    }
  }
  const double n = static_cast<double>(std::max<std::size_t>(samples, 1));
  for (std::size_t l = 0; l < 3; ++l) {
    r.layers[l].step_norm /= n;
    r.layers[l].true_norm /= n;
    r.layers[l].cosine /= static_cast<double>(std::max<std::size_t>(with_cosine[l], 1));
  }
  r.delta2_units /= static_cast<double>(std::max<std::size_t>(with_delta2, 1));
  return r;
}

std::string layers_csv_header() {
  std::string h = "epoch";
  for (const char* column : {"change", "step", "true", "cosine", "alike"})
    for (int l = 0; l < 3; ++l) h += fmt::format(",{}_W{}", column, l);
  return h + ",delta2_units";
}

std::string layers_csv_line(const LayerReport& r) {
  std::string line = fmt::format("{}", r.epoch);
  for (double LayerStats::*field :
       {&LayerStats::weight_change, &LayerStats::step_norm, &LayerStats::true_norm,
        &LayerStats::cosine, &LayerStats::units_alike}) {
    for (const LayerStats& l : r.layers) line += fmt::format(",{:.10f}", l.*field);
  }
  return line + fmt::format(",{:.10f}", r.delta2_units);
}

}  // namespace stepgrad
