// Training and evaluation as the article's notebook does them: per-sample SGD in a fixed order,
// running cost (eq. 7) and accuracy accumulated during each epoch, then the test set evaluated.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <stepgrad/io/mnist.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/network.hpp>
#include <stepgrad/nn/step.hpp>

namespace stepgrad {

struct TrainOptions {
  Recipe recipe = Recipe::fixed;  ///< `article` always runs on the hand-derived deltas
  Engine engine = Engine::tape;   ///< for `fixed`
  std::size_t epochs = 5;
  double lr = 0.001;      ///< the article's t_rate, lambda in eq. (12)
  std::size_t batch = 1;  ///< 1: the article's per-sample SGD; N: mean gradient of N
  bool shuffle = false;   ///< the article keeps one order for every epoch
  NetworkOptions network;
  /// Threads for the test-set pass after each epoch (evaluate()): speed only, the same numbers.
  std::size_t evaluation_threads = 1;

  /// The engine that actually runs: the deltas for the article recipe.
  Engine effective_engine() const { return stepgrad::effective_engine(recipe, engine); }
  /// "recipe=fixed engine=tape epochs=5 lr=0.001 batch=1 shuffle=false", then the network's.
  std::string describe() const;
};

/// One epoch's figures, as the article prints them plus the test set and the speed.
struct EpochMetrics {
  std::size_t epoch = 0;        ///< 1-based
  double train_cost = 0.0;      ///< mean eq. (7) over the epoch, while the weights change
  double train_accuracy = 0.0;  ///< running accuracy over the epoch
  double test_cost = 0.0;       ///< mean eq. (7) on the test set after the epoch
  double test_accuracy = 0.0;
  double seconds = 0.0;  ///< the epoch's training time (evaluation excluded)
  double samples_per_second = 0.0;
};

/// A forward-only pass over a data set.
struct Evaluation {
  double cost = 0.0;           ///< mean eq. (7)
  double cross_entropy = 0.0;  ///< mean categorical cross-entropy, what training minimises
  double accuracy = 0.0;
  std::vector<std::uint8_t> predicted;  ///< argmax O3 per sample
  std::vector<double> confidence;       ///< O3 at the predicted digit
  std::vector<std::uint8_t> truth;      ///< the labels, for convenience
};

/// Evaluates `net` on every sample of `data` (batched: the order of the samples does not
/// change any per-sample number). With threads > 1 that many threads share the batches; the
/// totals are summed in the batches' order, so every number is the same as with one.
Evaluation evaluate(const Network& net, const Subset& data, std::size_t threads = 1);

/// A diverged training stops in one line (R47 in docs/reliability.md): throws
/// std::runtime_error "the cost became NaN at step 5; try a smaller learning rate than 0.1" when
/// `cost` is NaN or infinite. `step` counts from 1; a training loop calls it with each step's cost.
void require_finite_cost(double cost, std::size_t step, double lr);

/// Called now and then during an epoch with (samples done, samples in the epoch).
using Progress = std::function<void(std::size_t done, std::size_t total)>;

/// Runs the article's training loop on one network; keeps its buffers (and its tape) between
/// steps so a step allocates nothing after the first.
class Trainer {
 public:
  Trainer(Network& net, const TrainOptions& options);

  /// One epoch over `train` (in its order, or reshuffled when options.shuffle), then the test
  /// set. `epoch` is 1-based.
  EpochMetrics run_epoch(const Subset& train, const Subset& test, std::size_t epoch,
                         const Progress& progress = {});

  /// One SGD step on the samples order[first, first + count) of `data`; adds their eq. (7)
  /// cost to `cost_sum` and their correct predictions to `correct`.
  void step(const Subset& data, std::span<const std::size_t> order, std::size_t first,
            std::size_t count, double& cost_sum, std::size_t& correct);

 private:
  Network& net_;
  TrainOptions options_;
  TrainingStep step_;  // either engine (nn/step.hpp)
  Tensor x_;           // (784,) or (784, batch)
  Tensor y_;           // (10,) or (10, batch)
  std::vector<std::size_t> order_;
  std::size_t steps_ = 0;  // steps taken, for require_finite_cost's message
};

/// metrics.csv: the header line, then one line per epoch. The timing columns come last.
std::string metrics_csv_header();
std::string metrics_csv_line(const EpochMetrics& m);

}  // namespace stepgrad
