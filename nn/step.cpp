// One step of the article's SGD on either engine (nn/step.hpp).
#include <stepgrad/nn/step.hpp>

#include <stdexcept>
#include <string>

namespace stepgrad {

StepResult TrainingStep::step(Network& net, const Tensor& x, const Tensor& y, Engine engine,
                              Recipe recipe, double lr) {
  if (engine == Engine::tape && uses_article_eq9(recipe)) {
    throw std::invalid_argument(
        "step: the " + std::string(to_string(recipe)) +
        " recipe has no tape engine (its eq. 9 is not a derivative); use Engine::deltas");
  }
  const std::size_t count = x.rank() == 2 ? x.cols() : 1;
  const double n = static_cast<double>(count);
  StepResult r;
  if (engine == Engine::tape) {
    tape_.clear();  // keeps every node's memory: no allocation after the first step
    const TapeForward f = record_forward(tape_, net, x, y);
    tape_.backward(f.C);
    // eq. (12) on each Parameter; without --bias the biases get no gradient and do not move.
    for (std::size_t l = 0; l < 3; ++l) net.weight(l).sgd_step(lr);
    for (std::size_t l = 0; l < 3; ++l) net.bias(l).sgd_step(lr);
    r.cost_sum = f.cost.value().item() * n;  // the tape's cost is the batch's mean
    r.correct = count_correct(f.O3.value(), y);
  } else if (x.rank() == 1) {
    const Tensor& O3 = fused_.step(net, x, y, recipe, lr);  // = deltas_sgd_step, fused
    r.cost_sum = article_cost(O3, y);
    r.correct = count_correct(O3, y);
  } else {
    const ForwardValues a = deltas_sgd_step(net, x, y, recipe, lr);
    r.cost_sum = article_cost(a.O3, y) * n;
    r.correct = count_correct(a.O3, y);
  }
  return r;
}

std::size_t count_correct(const Tensor& O3, const Tensor& Y) {
  std::size_t correct = 0;
  const std::size_t cols = O3.rank() == 2 ? O3.cols() : 1;
  for (std::size_t k = 0; k < cols; ++k) {
    std::size_t best = 0;
    std::size_t label = 0;
    for (std::size_t i = 0; i < O3.rows(); ++i) {
      if (O3(i, k) > O3(best, k)) best = i;
      if (Y(i, k) == 1.0) label = i;
    }
    correct += best == label;
  }
  return correct;
}

}  // namespace stepgrad
