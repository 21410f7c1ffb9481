// The training loop, its two engines, and evaluation.
#include <stepgrad/nn/train.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/random.hpp>

namespace stepgrad {

std::string TrainOptions::describe() const {
  return fmt::format("recipe={} engine={} epochs={} lr={} batch={} shuffle={} {}",
                     to_string(recipe), to_string(effective_engine()), epochs, lr, batch, shuffle,
                     network.describe());
}

namespace {

// Column k of X and Y <- sample order[first + k] of `data` (pixels / 255, one-hot label).
// A single sample fills plain vectors, as the article's code uses them.
void fill(const Subset& data, std::span<const std::size_t> order, std::size_t first,
          std::size_t count, Tensor& X, Tensor& Y) {
  if (count == 1) {
    data.input(order[first], X);
    data.one_hot(order[first], Y);
    return;
  }
  data.inputs(order.subspan(first, count), X);
  data.one_hots(order.subspan(first, count), Y);
}

// Runs work() on `threads` threads (this one among them) and waits for all; the first exception
// thrown is rethrown here. When the system refuses a thread, the ones it gave do the work; one
// thread where Emscripten builds without threads.
void run_on_threads(std::size_t threads, const std::function<void()>& work) {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
  threads = 1;
#endif
  std::vector<std::exception_ptr> errors(std::max<std::size_t>(threads, 1));
  const auto guarded = [&](std::size_t t) {
    try {
      work();
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> others;
  others.reserve(threads);
  try {
    for (std::size_t t = 1; t < threads; ++t) others.emplace_back(guarded, t);
  } catch (const std::system_error&) {
    // no more threads: work() takes the next batch wherever it runs
  }
  guarded(0);
  for (std::thread& t : others) t.join();
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Trainer::Trainer(Network& net, const TrainOptions& options) : net_(net), options_(options) {
  if (options.batch == 0) throw std::invalid_argument("batch: must be at least 1");
  if (!(options.lr > 0.0) || !std::isfinite(options.lr)) {
    throw std::invalid_argument(fmt::format("lr: must be a positive number, not {}", options.lr));
  }
  if (!(net.options() == options.network)) {
    throw std::invalid_argument("Trainer: the network was built with other options");
  }
}

void require_finite_cost(double cost, std::size_t step, double lr) {
  if (std::isfinite(cost)) return;
  throw std::runtime_error(
      fmt::format("the cost became {} at step {}; try a smaller learning rate than {:g}",
                  std::isnan(cost) ? "NaN" : "infinite", step, lr));
}

void Trainer::step(const Subset& data, std::span<const std::size_t> order, std::size_t first,
                   std::size_t count, double& cost_sum, std::size_t& correct) {
  fill(data, order, first, count, x_, y_);
  // The next sample's 784 bytes are asked into the cache now, while this step runs: reading the
  // image from L3 or memory at the start of its step was most of image_input's 7% of a tape step
  // (perf, AMD EPYC), 2% with this hint. A hint only: nothing waits for it, no number changes.
  if (count == 1 && first + 1 < order.size()) {
    const std::span<const std::uint8_t> next = data.pixels(order[first + 1]);
    for (std::size_t b = 0; b < next.size(); b += 64) __builtin_prefetch(next.data() + b);
  }
  const StepResult r =
      step_.step(net_, x_, y_, options_.effective_engine(), options_.recipe, options_.lr);
  require_finite_cost(r.cost_sum, ++steps_, options_.lr);
  cost_sum += r.cost_sum;
  correct += r.correct;
}

EpochMetrics Trainer::run_epoch(const Subset& train, const Subset& test, std::size_t epoch,
                                const Progress& progress) {
  const std::size_t n = train.size();
  if (n == 0) throw std::invalid_argument("train: the training set is empty");
  if (options_.shuffle) {
    // A fresh, seeded permutation per epoch: runs stay reproducible (R19 in docs/reliability.md).
    order_ = RandomState(options_.network.seed + static_cast<std::uint32_t>(epoch)).permutation(n);
  } else if (order_.size() != n) {
    order_.resize(n);
    for (std::size_t i = 0; i < n; ++i) order_[i] = i;
  }
  EpochMetrics m;
  m.epoch = epoch;
  double cost_sum = 0.0;
  std::size_t correct = 0;
  const auto t0 = std::chrono::steady_clock::now();
  constexpr std::size_t kReportEvery = 2048;
  std::size_t next_report = kReportEvery;
  {
    const ColumnMajorW0 layout(net_, options_.batch == 1);  // Note [W0 column by column]
    for (std::size_t first = 0; first < n; first += options_.batch) {
      const std::size_t count = std::min(options_.batch, n - first);
      step(train, order_, first, count, cost_sum, correct);
      if (progress && first + count >= next_report) {
        progress(first + count, n);
        next_report += kReportEvery;
      }
    }
  }
  m.seconds = seconds_since(t0);
  if (progress) progress(n, n);
  m.samples_per_second = static_cast<double>(n) / m.seconds;
  m.train_cost = cost_sum / static_cast<double>(n);
  m.train_accuracy = static_cast<double>(correct) / static_cast<double>(n);
  if (test.size() > 0) {
    const Evaluation e = evaluate(net_, test, options_.evaluation_threads);
    m.test_cost = e.cost;
    m.test_accuracy = e.accuracy;
  }
  return m;
}

Evaluation evaluate(const Network& net, const Subset& data, std::size_t threads) {
  const std::size_t n = data.size();
  constexpr std::size_t kChunk = 512;  // columns per forward pass: one GEMM per layer
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  Evaluation e;
  e.predicted.resize(n);
  e.confidence.resize(n);
  e.truth.resize(n);
  // Each chunk's sums, added up in chunk order below whichever thread computed them.
  struct Sums {
    double cost = 0.0;
    double cross_entropy = 0.0;
    std::size_t correct = 0;
  };
  std::vector<Sums> sums(chunks);
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    Tensor X;
    Tensor Y;
    for (std::size_t chunk; (chunk = next.fetch_add(1)) < chunks;) {
      const std::size_t first = chunk * kChunk;
      const std::size_t count = std::min(kChunk, n - first);
      fill(data, order, first, count, X, Y);
      const ForwardValues a = forward_pass(net, X);
      const double c = static_cast<double>(count);
      sums[chunk] = {article_cost(a.O3, Y) * c, cross_entropy(a.Z3, Y) * c, count_correct(a.O3, Y)};
      const std::size_t cols = a.O3.rank() == 2 ? a.O3.cols() : 1;
      for (std::size_t k = 0; k < cols; ++k) {
        std::size_t best = 0;
        for (std::size_t i = 1; i < kNumClasses; ++i)
          if (a.O3(i, k) > a.O3(best, k)) best = i;
        e.predicted[first + k] = static_cast<std::uint8_t>(best);
        e.confidence[first + k] = a.O3(best, k);
        e.truth[first + k] = data.label(first + k);
      }
    }
  };
  run_on_threads(std::min(threads, chunks), work);
  std::size_t correct = 0;
  for (const Sums& s : sums) {
    e.cost += s.cost;
    e.cross_entropy += s.cross_entropy;
    correct += s.correct;
  }
  if (n > 0) {
    e.cost /= static_cast<double>(n);
    e.cross_entropy /= static_cast<double>(n);
    e.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  }
  return e;
}

std::string metrics_csv_header() {
  return "epoch,train_cost,train_accuracy,test_cost,test_accuracy,seconds,samples_per_second";
}

std::string metrics_csv_line(const EpochMetrics& m) {
  return fmt::format("{},{:.10f},{:.10f},{:.10f},{:.10f},{:.3f},{:.1f}", m.epoch, m.train_cost,
                     m.train_accuracy, m.test_cost, m.test_accuracy, m.seconds,
                     m.samples_per_second);
}

}  // namespace stepgrad
