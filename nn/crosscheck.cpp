// The cross-check: three independent routes to dC/dW, and how far the article's route strays.
#include <stepgrad/nn/crosscheck.hpp>

#include <cmath>

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
  const Activations a = forward_pass(net, x);
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
  const Activations a = forward_pass(net, x);
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

}  // namespace stepgrad
