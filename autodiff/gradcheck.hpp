// Gradient checking by central finite differences, in double: element by element (R1 in
// docs/reliability.md, R3) and along random directions (R2). Reports, not verdicts: tests assert on
// them, tutorials print them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/autodiff/tape.hpp>
#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad {

/// A scalar function of tensors the caller owns; it reads them afresh on each call.
using LossFn = std::function<double()>;

// Note [Five-point stencil]
// The numerical derivative is the fourth-order central difference
//   L'(x) ~ (8 (L(x + h) - L(x - h)) - (L(x + 2h) - L(x - 2h))) / 12h,
// whose truncation error is O(h^4) instead of the two-point formula's O(h^2). That allows a
// large step (h = 1e-3), and a large step keeps rounding small: the losses are each rounded
// to the last bit of |L| before they are subtracted, an error of about 1.5 eps |L| / h.
// Measured on the article's network (|L| ~ 2.3): the two-point formula with h = 1e-6 is off
// by up to 1e-9 in absolute terms; this one by about 1e-12.
//
// Note [Finite-difference resolution]
// Below some size a numerical derivative has no correct digits left: its absolute error
// does not shrink with the derivative. check_gradient estimates that error as
// resolution = ulps * eps * max|L| / h and compares every element i by
//   |a_i - n_i| <= rtol * max(|a_i|, |n_i|, resolution / rtol),
// i.e. the relative error of Note [Relative error] with floor = resolution / rtol. Elements
// above the floor are held to rtol; elements below it, to the absolute error `resolution`.
// The report counts the elements below the floor, so nothing hides there unnoticed.

struct GradCheckOptions {
  double h = 1e-3;               ///< step of the five-point stencil
  double rtol = 1e-7;            ///< max relative error to pass (R1's "smooth ops")
  double resolution_ulps = 16;   ///< resolution = ulps * eps * max|L| / h (10x the estimate)
  std::size_t max_elements = 0;  ///< 0: every element; otherwise this many, spread evenly
};

struct GradCheckReport {
  std::string name;
  Tensor analytic;
  Tensor numeric;                    ///< only the checked elements are meaningful
  std::vector<std::size_t> checked;  ///< flat indices that were checked
  double resolution = 0.0;           ///< Note [Finite-difference resolution]
  std::size_t below_floor = 0;       ///< nonzero checked elements held to `resolution`, not to rtol
  Comparison cmp;                    ///< over the checked elements, floor = resolution / rtol
  bool passed = false;               ///< max relative error <= rtol, all finite
};

/// dL/dx[i] by the five-point stencil (Note [Five-point stencil]) for each i in `indices`
/// (all if empty).
/// x is changed in place and restored exactly. Also returns the largest |L| seen.
Tensor numerical_gradient(const LossFn& loss, Tensor& x, double h,
                          std::span<const std::size_t> indices = {}, double* max_loss = nullptr);

/// Compares `analytic` (dL/dx) with central differences of `loss` in x.
GradCheckReport check_gradient(std::string name, const LossFn& loss, Tensor& x,
                               const Tensor& analytic, const GradCheckOptions& opts = {});

/// One directional check: <grad, u> against the five-point derivative of L(x + t u) at t = 0,
/// all xs moved at once (R2).
struct DirectionalReport {
  double analytic = 0.0;  ///< sum over tensors of <grad_k, u_k>
  double numeric = 0.0;
  double abs_err = 0.0;
  double rel_err = 0.0;  ///< |analytic - numeric| / max(|analytic|, |numeric|)
};
DirectionalReport check_direction(const LossFn& loss, std::span<Tensor* const> xs,
                                  std::span<const Tensor> grads, std::span<const Tensor> directions,
                                  double h = 1e-3);

/// A function of Parameters as a program writes it: records its one-element result on the tape
/// it is given and returns it.
using TapeLossFn = std::function<Var(Tape&)>;

/// torch.autograd.gradcheck for Parameters: the tape's gradient of loss (one backward sweep) next
/// to the five-point stencil of loss's value in each element, one report per Parameter that
/// requires a gradient, in order (a frozen one, requires_grad = false, has no gradient to check,
/// as in PyTorch). Afterwards the Parameters' values and gradients are as they were.
std::vector<GradCheckReport> gradcheck(const std::vector<Parameter*>& params,
                                       const TapeLossFn& loss, const GradCheckOptions& opts = {});

/// "W0: 100352 of 100352 elements checked, max abs 1.2e-12 at (5, 300), max rel ... [ok]".
std::string format_report(const GradCheckReport& r);

}  // namespace stepgrad
