// Central differences and the reports built on them.
#include <stepgrad/autodiff/gradcheck.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace stepgrad {

Tensor numerical_gradient(const LossFn& loss, Tensor& x, double h,
                          std::span<const std::size_t> indices, double* max_loss) {
  Tensor g(x.shape());
  double biggest = 0.0;
  auto at = [&](std::size_t i) {
    const double saved = x[i];
    auto loss_at = [&](double step) {
      x[i] = saved + step;
      const double l = loss();
      biggest = std::max(biggest, std::abs(l));
      return l;
    };
    // Note [Five-point stencil]
    const double far = loss_at(2.0 * h) - loss_at(-2.0 * h);
    const double near = loss_at(h) - loss_at(-h);
    x[i] = saved;
    g[i] = (8.0 * near - far) / (12.0 * h);
  };
  if (indices.empty()) {
    for (std::size_t i = 0; i < x.size(); ++i) at(i);
  } else {
    for (std::size_t i : indices) at(i);
  }
  if (max_loss != nullptr) *max_loss = biggest;
  return g;
}

GradCheckReport check_gradient(std::string name, const LossFn& loss, Tensor& x,
                               const Tensor& analytic, const GradCheckOptions& opts) {
  if (analytic.shape() != x.shape()) {
    throw_shape_error("check_gradient", x.shape(), analytic.shape(),
                      "gradient must match its tensor");
  }
  GradCheckReport r;
  r.name = std::move(name);
  const std::size_t n = x.size();
  const std::size_t count = opts.max_elements == 0 ? n : std::min(n, opts.max_elements);
  for (std::size_t k = 0; k < count; ++k) r.checked.push_back(k * n / count);  // evenly spread
  double max_loss = 0.0;
  r.numeric = numerical_gradient(loss, x, opts.h, r.checked, &max_loss);
  r.resolution = opts.resolution_ulps * std::numeric_limits<double>::epsilon() * max_loss / opts.h;
  // Compare only the checked elements.
  Tensor a(Shape::vector(count));
  Tensor b(Shape::vector(count));
  for (std::size_t k = 0; k < count; ++k) {
    a[k] = analytic[r.checked[k]];
    b[k] = r.numeric[r.checked[k]];
  }
  const double floor = r.resolution / opts.rtol;
  for (std::size_t k = 0; k < count; ++k) {
    const double m = std::max(std::abs(a[k]), std::abs(b[k]));
    if (m > 0.0 && m < floor) ++r.below_floor;  // exact zeros are checked exactly
  }
  r.cmp = compare(a, b, floor);
  r.cmp.shape = x.shape();
  r.cmp.worst_abs = r.checked.empty() ? 0 : r.checked[r.cmp.worst_abs];
  r.cmp.worst_rel = r.checked.empty() ? 0 : r.checked[r.cmp.worst_rel];
  r.analytic = analytic;
  r.passed = r.cmp.finite && r.cmp.max_rel <= opts.rtol;
  return r;
}

DirectionalReport check_direction(const LossFn& loss, std::span<Tensor* const> xs,
                                  std::span<const Tensor> grads, std::span<const Tensor> directions,
                                  double h) {
  if (xs.size() != grads.size() || xs.size() != directions.size()) {
    throw std::invalid_argument("check_direction: need one gradient and one direction per tensor");
  }
  DirectionalReport r;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    if (grads[k].shape() != xs[k]->shape() || directions[k].shape() != xs[k]->shape()) {
      throw_shape_error("check_direction", xs[k]->shape(), directions[k].shape(),
                        "gradient and direction must match their tensor");
    }
    for (std::size_t i = 0; i < grads[k].size(); ++i) r.analytic += grads[k][i] * directions[k][i];
  }
  std::vector<Tensor> saved;
  for (Tensor* x : xs) saved.push_back(*x);
  auto loss_at = [&](double step) {
    for (std::size_t k = 0; k < xs.size(); ++k)
      for (std::size_t i = 0; i < xs[k]->size(); ++i)
        (*xs[k])[i] = saved[k][i] + step * directions[k][i];
    return loss();
  };
  // Note [Five-point stencil]
  const double far = loss_at(2.0 * h) - loss_at(-2.0 * h);
  const double near = loss_at(h) - loss_at(-h);
  for (std::size_t k = 0; k < xs.size(); ++k) *xs[k] = saved[k];
  r.numeric = (8.0 * near - far) / (12.0 * h);
  r.abs_err = std::abs(r.analytic - r.numeric);
  const double denom = std::max(std::abs(r.analytic), std::abs(r.numeric));
  r.rel_err = denom == 0.0 ? 0.0 : r.abs_err / denom;
  return r;
}

std::vector<GradCheckReport> gradcheck(const std::vector<Parameter*>& all, const TapeLossFn& loss,
                                       const GradCheckOptions& opts) {
  std::vector<Parameter*> params;
  for (Parameter* p : all)
    if (p->requires_grad) params.push_back(p);
  // The sweep accumulates into the Parameters' own gradients: keep the caller's.
  std::vector<std::optional<Tensor>> kept;
  for (Parameter* p : params)
    kept.push_back(p->has_grad() ? std::optional(p->grad()) : std::nullopt);
  zero_grad(params);
  Tape tape;
  loss(tape).backward();
  std::vector<Tensor> analytic;
  for (Parameter* p : params) analytic.push_back(p->grad());
  Tape probe;  // reused by every evaluation: cleared, not reallocated
  const LossFn value = [&] {
    probe.clear();
    return loss(probe).value().item();
  };
  std::vector<GradCheckReport> reports;
  for (std::size_t k = 0; k < params.size(); ++k) {
    reports.push_back(check_gradient(params[k]->name, value, params[k]->value, analytic[k], opts));
    params[k]->zero_grad();
    if (kept[k]) params[k]->gradient().for_accumulation(kept[k]->shape()).tensor = *kept[k];
  }
  return reports;
}

std::string format_report(const GradCheckReport& r) {
  return fmt::format(
      "{}: {} of {} elements checked, max abs {:.2e} at {}, max rel {:.2e} at {} "
      "({} below the floor {:.1e}) [{}]",
      r.name, r.checked.size(), r.analytic.size(), r.cmp.max_abs,
      format_index(r.cmp.shape, r.cmp.worst_abs), r.cmp.max_rel,
      format_index(r.cmp.shape, r.cmp.worst_rel), r.below_floor, r.cmp.floor,
      r.passed ? "ok" : "FAILED");
}

}  // namespace stepgrad
