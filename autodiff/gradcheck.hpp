// Gradient checking by central finite differences, in double: element by element (R1, R3)
// and along random directions (R2). Reports, not verdicts: tests assert on them, tutorials
// print them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "print.hpp"
#include "tensor.hpp"

namespace stepgrad {

/// A scalar function of tensors the caller owns; it reads them afresh on each call.
using LossFn = std::function<double()>;

// Note [Finite-difference resolution]
// (L(x + h) - L(x - h)) / 2h has two errors: truncation, about h^2 |L'''| / 6, and rounding,
// about eps |L| / h (eps = 2.2e-16): the two losses are rounded to the last bit of |L|
// before they are subtracted. With h = 1e-6 and |L| ~ 2.3 the rounding part is ~5e-10, so a
// numerical derivative smaller than that has no correct digits. check_gradient measures
// relative error with that resolution as its floor (Note [Relative error] in print.hpp):
// elements above it are held to a strict relative tolerance, elements below it to an
// absolute one of the same size.

struct GradCheckOptions {
  double h = 1e-6;               ///< step of the central difference
  double rtol = 1e-7;            ///< max relative error to pass (R1's "smooth ops")
  double resolution_ulps = 64;   ///< resolution = ulps * eps * max|L| / h, see the Note
  std::size_t max_elements = 0;  ///< 0: every element; otherwise this many, spread evenly
};

struct GradCheckReport {
  std::string name;
  Tensor analytic;
  Tensor numeric;                    ///< only the checked elements are meaningful
  std::vector<std::size_t> checked;  ///< flat indices that were checked
  double resolution = 0.0;           ///< Note [Finite-difference resolution]
  Comparison cmp;                    ///< over the checked elements
  bool passed = false;               ///< max relative error (floored at resolution) <= rtol, finite
};

/// dL/dx[i] ~ (L(x + h e_i) - L(x - h e_i)) / 2h for each i in `indices` (all if empty).
/// x is changed in place and restored exactly. Also returns the largest |L| seen.
Tensor numerical_gradient(const LossFn& loss, Tensor& x, double h,
                          std::span<const std::size_t> indices = {}, double* max_loss = nullptr);

/// Compares `analytic` (dL/dx) with central differences of `loss` in x.
GradCheckReport check_gradient(std::string name, const LossFn& loss, Tensor& x,
                               const Tensor& analytic, const GradCheckOptions& opts = {});

/// One directional check: <grad, u> against (L(x + h u) - L(x - h u)) / 2h, all xs moved at once.
struct DirectionalReport {
  double analytic = 0.0;  ///< sum over tensors of <grad_k, u_k>
  double numeric = 0.0;
  double abs_err = 0.0;
  double rel_err = 0.0;  ///< |analytic - numeric| / max(|analytic|, |numeric|)
};
DirectionalReport check_direction(const LossFn& loss, std::span<Tensor* const> xs,
                                  std::span<const Tensor> grads, std::span<const Tensor> directions,
                                  double h = 1e-6);

/// "W0: 100352 elements checked, max abs 1.2e-10, max rel 3.4e-9 at (5, 300) [ok]".
std::string format_report(const GradCheckReport& r);

}  // namespace stepgrad
