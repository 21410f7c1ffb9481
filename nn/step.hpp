// One step of the article's SGD, eq. (12), on either engine: what Trainer (10_train, 12_recipes)
// runs for each sample or minibatch, and what the explorer's Train button runs in the browser.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include <stepgrad/autodiff/enum_names.hpp>
#include <stepgrad/autodiff/tape.hpp>
#include <stepgrad/autodiff/tensor.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/fused.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad {

/// Who computes the gradients of the `fixed` recipe: the tape or the hand-derived deltas.
enum class Engine : std::uint8_t { tape, deltas };
template <>
struct EnumNames<Engine> {
  static constexpr std::array<std::pair<std::string_view, Engine>, 2> values{
      {{"tape", Engine::tape}, {"deltas", Engine::deltas}}};
};

/// The engine that runs `recipe`: `engine` for fixed, the deltas for the article's recipes (their
/// eq. 9 is not a derivative, so no tape computes it).
constexpr Engine effective_engine(Recipe recipe, Engine engine) {
  return uses_article_eq9(recipe) ? Engine::deltas : engine;
}

/// What one step saw, before it changed the weights.
struct StepResult {
  double cost_sum = 0.0;    ///< eq. (7) summed over the step's samples
  std::size_t correct = 0;  ///< how many of them put O3's largest value on the label
};

/// One SGD step, W_l -= lr · Delta_l (eq. 12), on one sample x (784,) with one-hot y (10,), or on
/// a minibatch x (784, B), y (10, B) with the mean gradient of its B columns.
///   Engine::tape   records eqs. (1)-(4) and the cost on a tape, runs backward(C), and steps each
///                  Parameter by its .grad (the `fixed` recipe);
///   Engine::deltas eqs. (8)-(11) by hand with the recipe's eq. (9): FusedDeltasStep for one
///                  sample, deltas_sgd_step for a minibatch (the `article` recipe always).
/// Keeps its tape and buffers between calls, so a one-sample step allocates nothing after the
/// first (a minibatch on the deltas engine does: deltas_sgd_step returns its activations).
class TrainingStep {
 public:
  StepResult step(Network& net, const Tensor& x, const Tensor& y, Engine engine, Recipe recipe,
                  double lr);

 private:
  Tape tape_;
  FusedDeltasStep fused_;
};

// Note [W0 column by column]
// A training loop of per-sample steps stores W0 column-major while it runs (Note [Column-major
// storage] in tensor.hpp): the lit pixels' columns of W0, all that a step reads and writes there,
// are then contiguous, and the step is about 1.4x as fast (bench/README.md, "Issue 30"). Both
// engines take either layout with the same bits, so nothing else changes: the loops of
// Trainer::run_epoch and Python's TrainingStep.train each hold a ColumnMajorW0 around their
// steps, and everything outside them sees W0 row-major. The explorer's engine, called for a slice
// of steps every few milliseconds, keeps W0 column-major between its calls instead (Note [The
// explorer's W0 stays column-major] in web/bindings.cpp).

/// While it lives, net.W0 is column-major (Note [W0 column by column]); row-major again when it
/// ends, also by an exception. Only for one-sample steps (`per_sample` false does nothing): a
/// minibatch's products go to OpenBLAS, whose rounding depends on the layout.
class ColumnMajorW0 {
 public:
  ColumnMajorW0(Network& net, bool per_sample) : w0_(per_sample ? &net.W0.value : nullptr) {
    if (w0_ != nullptr) w0_->set_layout(Layout::column_major);
  }
  ~ColumnMajorW0() {
    if (w0_ != nullptr) w0_->set_layout(Layout::row_major);
  }
  ColumnMajorW0(const ColumnMajorW0&) = delete;
  ColumnMajorW0& operator=(const ColumnMajorW0&) = delete;

 private:
  Tensor* w0_;
};

/// How many columns of O3 (or O3 itself, a vector) put their largest value on the label of the
/// same column of Y (the first maximum, as argmax).
std::size_t count_correct(const Tensor& O3, const Tensor& Y);

}  // namespace stepgrad
