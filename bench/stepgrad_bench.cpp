// stepgrad_bench: how fast stepgrad trains and evaluates the article's network, in Google
// Benchmark's terms. Every benchmark reports items_per_second, and an item is one sample (one
// image for idx_load), so items_per_second is samples/s. Single-threaded throughout (OpenBLAS
// runs on one thread, autodiff/kernels.cpp).
//
//   build/bench/stepgrad_bench                                   every benchmark
//   build/bench/stepgrad_bench --benchmark_filter=sgd_step       the per-sample SGD steps
//   build/bench/stepgrad_bench --data=/path/to/mnist             another MNIST folder
//
// Three references run beside the engines: sgd_step/dense_fused, the per-sample step as a dense
// fused step as fast as we can write it (dense_step.hpp: the yardstick),
// sgd_step/dense_fused_plain, the same numbers in plain loops, and blas_products, OpenBLAS's dgemm
// alone on a minibatch step's products. The context names the CPU and the vector instructions it
// has and the build uses (cpu_model, cpu_isa, build_isa).
//
// The data: the article's split of the real MNIST (data/mnist, looked for in the working folder
// and then in the source tree), loaded once and shared by every benchmark. When it is missing the
// benchmarks run on synthetic digits (tests/common/digits.hpp) and say so, so the harness always
// runs; the figures are then only indicative (the synthetic images light about as many pixels).
// bench/run.sh runs this with repetitions next to the article's numpy code; bench/README.md says
// what each number means.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/nn/network.hpp>
#include <stepgrad/nn/train.hpp>
#include "common/digits.hpp"
#include "dense_step.hpp"

#if STEPGRAD_BENCH_BLAS
#include <cblas.h>
#endif

using namespace stepgrad;
namespace fs = std::filesystem;

namespace {

// Note [DoNotOptimize and doubles]
// Google Benchmark 1.7's DoNotOptimize(T&) is asm volatile("" : "+m,r"(value)) under g++, and g++
// mishandles that constraint on a double (google/benchmark#903, GCC PR 92597): a double passed to
// it came out as 0 here. So the benchmarks hand it integers and pointers only. Trainer::step,
// evaluate and read_idx live in other translation units (no LTO), so the calls themselves cannot
// be optimised away.

// The training steps cycle over the first kCycle training samples, so each step sees a new image
// as in training while the pixels read stay a small, fixed working set. Divisible by every batch.
constexpr std::size_t kCycle = 4096;
// evaluate/forward_only runs on this many test samples.
constexpr std::size_t kEvalSamples = 2000;
// The synthetic stand-ins when MNIST is missing: training and test digits, and the images of the
// IDX file written for idx_load (as many as the real training file).
constexpr std::size_t kSyntheticTrain = kCycle;
constexpr std::size_t kSyntheticTest = kEvalSamples;
constexpr std::size_t kSyntheticIdxImages = 60000;

struct BenchData {
  Split split;
  bool real = false;
  fs::path train_images;  // the IDX file idx_load reads
  // The synthetic IDX file, removed when the last copy of this goes (at exit).
  std::shared_ptr<const fs::path> temporary;
};

fs::path g_data_dir;  // --data=DIR, or found by find_data_dir()

fs::path find_data_dir() {
  std::error_code ec;
  if (fs::is_directory("data/mnist", ec)) return "data/mnist";
  return fs::path(STEPGRAD_SOURCE_DIR) / "data" / "mnist";
}

// The training images file in `dir`, raw or gzipped; empty when neither is there.
fs::path find_train_images(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"}) {
    if (fs::is_regular_file(dir / name, ec)) return dir / name;
  }
  return {};
}

// A raw IDX file of n synthetic 28x28 images (magic 00 00 08 03, big-endian dimensions), in the
// temporary folder; idx_load reads it when MNIST is missing.
fs::path write_synthetic_idx(std::size_t n) {
  const Subset digits = testing::synthetic_digits(kSyntheticTrain, 7);
  std::vector<std::uint8_t> bytes{0, 0, 0x08, 3};
  for (const std::size_t d : {n, kImageRows, kImageCols}) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<std::uint8_t>((d >> shift) & 0xffu));
    }
  }
  bytes.reserve(bytes.size() + n * kImagePixels);
  for (std::size_t i = 0; i < n; ++i) {
    const std::span<const std::uint8_t> px = digits.pixels(i % digits.size());
    bytes.insert(bytes.end(), px.begin(), px.end());
  }
  const fs::path path =
      fs::temp_directory_path() / fmt::format("stepgrad_bench_{}.idx", ::getpid());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write", path.string()));
  return path;
}

BenchData load_data() {
  BenchData d;
  try {
    d.split = load_split(g_data_dir, SplitKind::article);
    d.real = true;
    d.train_images = find_train_images(g_data_dir);
    std::fprintf(stderr, "stepgrad_bench: data: %s\n", d.split.description.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "stepgrad_bench: NOTE: no usable MNIST (%s);\n"
                 "  running on synthetic digits instead: the figures are only indicative.\n"
                 "  scripts/fetch-mnist puts MNIST in data/mnist, or pass --data=DIR.\n",
                 e.what());
    d.split.train = testing::synthetic_digits(kSyntheticTrain, 1);
    d.split.test = testing::synthetic_digits(kSyntheticTest, 2);
    d.split.description = "synthetic digits";
    d.train_images = write_synthetic_idx(kSyntheticIdxImages);
    d.temporary =
        std::shared_ptr<const fs::path>(new fs::path(d.train_images), [](const fs::path* p) {
          std::error_code ec;
          fs::remove(*p, ec);
          delete p;
        });
  }
  return d;
}

// Loaded on first use and shared by every benchmark (and every repetition).
const BenchData& data() {
  static const BenchData d = load_data();
  return d;
}

// Note [Cold caches]
// W0 is 784 KiB and this machine's L2 1 MiB per core: between two steps W0 stays in L2 unless
// something else runs on the core. The sgd_step_cold/ benchmarks make that happen on purpose:
// before each step, untimed, they write a 2 MiB buffer (twice L2), which leaves W0 (and the image,
// and the small layers) in L3 at best. The sweep is slower than the step, so these run 0.1 s of
// timed steps per repetition. Pausing the timer around the sweep reads the clock twice, a fraction
// of a microsecond that falls partly in the timed step: the cold figures overstate the cost a
// little. They show what the step costs when the core is shared, as it is on a busy machine, and
// why the engines' figures swing more than the dense step's (bench/README.md, "Why the figures
// swing").
void evict_caches(benchmark::State& state) {
  static std::vector<double> sweep((std::size_t{2} << 20) / sizeof(double));
  state.PauseTiming();
  for (double& v : sweep) v += 1.0;
  benchmark::DoNotOptimize(sweep.data());
  state.ResumeTiming();
}

std::vector<std::size_t> iota_order(std::size_t n) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  return order;
}

// `batch` samples per Trainer::step (1: the article's per-sample SGD), cycling over the first
// kCycle training samples. Each run of the function starts from a fresh network (the article's
// nn_init, seed 42) built outside the timed loop; the weights then change step by step, as in
// training.
void train_steps(benchmark::State& state, Engine engine, Recipe recipe, std::size_t batch,
                 bool cold = false) {
  const Subset& train = data().split.train;
  const std::size_t cycle = std::min(kCycle, train.size()) / batch * batch;
  if (cycle == 0) {
    state.SkipWithError("fewer training samples than one batch");
    return;
  }
  const std::vector<std::size_t> order = iota_order(cycle);
  TrainOptions options;
  options.recipe = recipe;
  options.engine = engine;
  options.batch = batch;
  Network net(options.network);
  Trainer trainer(net, options);
  double cost_sum = 0.0;
  std::size_t correct = 0;
  std::size_t first = 0;
  // W0 as Trainer::run_epoch stores it while it runs steps (Note [W0 column by column]).
  const ColumnMajorW0 layout(net, batch == 1);
  for (auto _ : state) {
    if (cold) evict_caches(state);  // Note [Cold caches]
    trainer.step(train, order, first, batch, cost_sum, correct);
    benchmark::DoNotOptimize(correct);
    first += batch;
    if (first == cycle) first = 0;
  }
  const auto samples =
      static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(batch);
  state.SetItemsProcessed(samples);
  // The running accuracy of the steps timed: training is really happening (about 0.1 at first).
  state.counters["train_acc"] =
      samples > 0 ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0;
}

// The dense fused step (dense_step.hpp), the yardstick, on the samples and with the per-sample
// work of train_steps(): fill x and y, the step, the sample's cost (eq. 7) and prediction. Every
// engine's per-sample step is compared with the fast one (Step = FastDenseFusedStep) in
// bench/report.py; the plain one (DenseFusedStep) shows what the fast one gains.
template <class Step>
void dense_steps(benchmark::State& state, bool cold = false) {
  const Subset& train = data().split.train;
  const std::size_t cycle = std::min(kCycle, train.size());
  const Network net;
  Step dense(net);
  const double lr = TrainOptions{}.lr;
  Tensor x;
  Tensor y;
  double cost_sum = 0.0;
  std::size_t correct = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    if (cold) evict_caches(state);  // Note [Cold caches]
    train.input(i, x);
    train.one_hot(i, y);
    const Tensor& O3 = dense.step(x, y, lr);
    cost_sum += article_cost(O3, y);
    correct += argmax(O3) == train.label(i);
    benchmark::DoNotOptimize(correct);
    if (++i == cycle) i = 0;
  }
  dense.finish();
  benchmark::DoNotOptimize(dense.W0().data());
  const auto samples = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(samples);
  state.counters["train_acc"] =
      samples > 0 ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0;
}

#if STEPGRAD_BENCH_BLAS
// OpenBLAS's dgemm alone, on one thread, on the eight products of a minibatch step on the tape
// (autodiff/ops_linear.cpp's matmul and its backward), with their shapes and transposes: for
// each layer Z = W · O (out x in times in x B), dW = G · O^T, and dO = W^T · G except for the
// input O0. Its samples/s is the most a minibatch step can reach with these products.
void blas_products(benchmark::State& state, std::size_t batch) {
  openblas_set_num_threads(1);
  struct Layer {
    std::size_t out, in;
    std::vector<double> W, O, Z, G, dW, dO;
  };
  RandomState rng(7);
  const auto filled = [&](std::size_t n) {
    std::vector<double> v(n);
    for (double& e : v) e = rng.random_sample() - 0.5;
    return v;
  };
  std::vector<Layer> layers;
  for (std::size_t l = 0; l + 1 < kLayerSizes.size(); ++l) {
    const std::size_t out = kLayerSizes[l + 1], in = kLayerSizes[l];
    layers.push_back({out, in, filled(out * in), filled(in * batch), filled(out * batch),
                      filled(out * batch), filled(out * in), filled(in * batch)});
  }
  const auto b = static_cast<blasint>(batch);
  for (auto _ : state) {
    for (std::size_t l = 0; l < layers.size(); ++l) {
      Layer& L = layers[l];
      const auto out = static_cast<blasint>(L.out), in = static_cast<blasint>(L.in);
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, b, in, 1.0, L.W.data(), in,
                  L.O.data(), b, 0.0, L.Z.data(), b);  // Z = W · O
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, out, in, b, 1.0, L.G.data(), b,
                  L.O.data(), b, 0.0, L.dW.data(), in);  // dW = G · O^T
      if (l > 0) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, b, out, 1.0, L.W.data(), in,
                    L.G.data(), b, 0.0, L.dO.data(), b);  // dO = W^T · G
      }
      benchmark::DoNotOptimize(L.Z.data());
      benchmark::DoNotOptimize(L.dW.data());
      benchmark::DoNotOptimize(L.dO.data());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(batch));
}
#endif

// evaluate() on the first kEvalSamples test samples with the initial weights: forward only,
// batched (one GEMM per layer and chunk).
void evaluate_forward(benchmark::State& state) {
  const Subset& all = data().split.test;
  const Subset test = all.first(std::min(kEvalSamples, all.size()));
  const Network net;
  double accuracy = 0.0;
  for (auto _ : state) {
    const Evaluation e = evaluate(net, test);
    benchmark::DoNotOptimize(e.predicted.data());
    accuracy = e.accuracy;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(test.size()));
  state.counters["accuracy"] = accuracy;
}

// read_idx() of the whole training images file (60,000 images): read, check, copy. The file is
// in the page cache after the first read, so this times the parser, not the disk. Bytes are the
// file's size on disk.
void idx_load(benchmark::State& state) {
  const fs::path& path = data().train_images;
  if (path.empty()) {
    state.SkipWithError("no training images file");
    return;
  }
  const auto file_bytes = static_cast<std::int64_t>(fs::file_size(path));
  std::int64_t images = 0;
  for (auto _ : state) {
    const IdxArray a = read_idx(path);
    benchmark::DoNotOptimize(a.data.data());
    images = static_cast<std::int64_t>(a.dims.at(0));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * images);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * file_bytes);
}

// The CPU's model name, from /proc/cpuinfo (Linux); "unknown" elsewhere.
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

// The widest x86 vector instructions the compiler was allowed to use for this build (the
// kernels and this file are compiled with the same flags), and the widest the CPU has.
std::string_view build_isa() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__)
  return "AVX2";
#elif defined(__AVX__)
  return "AVX";
#elif defined(__SSE2__)
  return "SSE2";
#else
  return "not x86";
#endif
}

std::string_view cpu_isa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "AVX-512";
  if (__builtin_cpu_supports("avx2")) return "AVX2";
  if (__builtin_cpu_supports("avx")) return "AVX";
  return "SSE2";
#else
  return "not x86";
#endif
}

void register_benchmarks() {
  struct StepCase {
    Engine engine;
    Recipe recipe;
  };
  // The article recipe always runs on the hand-derived deltas (TrainOptions::effective_engine).
  for (const StepCase c :
       {StepCase{Engine::tape, Recipe::fixed}, StepCase{Engine::deltas, Recipe::fixed},
        StepCase{Engine::deltas, Recipe::article}}) {
    const std::string name =
        fmt::format("sgd_step/engine:{}/recipe:{}", to_string(c.engine), to_string(c.recipe));
    benchmark::RegisterBenchmark(name.c_str(), [c](benchmark::State& s) {
      train_steps(s, c.engine, c.recipe, 1);
    })->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("sgd_step/dense_fused", [](benchmark::State& s) {
    dense_steps<bench::FastDenseFusedStep>(s);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("sgd_step/dense_fused_plain", [](benchmark::State& s) {
    dense_steps<bench::DenseFusedStep>(s);
  })->Unit(benchmark::kMicrosecond);
  // The same steps with W0 out of L2 before each one (Note [Cold caches]).
  for (const Engine engine : {Engine::tape, Engine::deltas}) {
    const std::string name = fmt::format("sgd_step_cold/engine:{}/recipe:fixed", to_string(engine));
    benchmark::RegisterBenchmark(
        name.c_str(),
        [engine](benchmark::State& s) { train_steps(s, engine, Recipe::fixed, 1, true); })
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(0.1);
  }
  benchmark::RegisterBenchmark(
      "sgd_step_cold/dense_fused",
      [](benchmark::State& s) { dense_steps<bench::FastDenseFusedStep>(s, true); })
      ->Unit(benchmark::kMicrosecond)
      ->MinTime(0.1);
  for (const Engine engine : {Engine::tape, Engine::deltas}) {
    for (const std::size_t batch : {std::size_t{32}, std::size_t{128}}) {
      const std::string name =
          fmt::format("minibatch_step/engine:{}/batch:{}", to_string(engine), batch);
      benchmark::RegisterBenchmark(name.c_str(), [engine, batch](benchmark::State& s) {
        train_steps(s, engine, Recipe::fixed, batch);
      })->Unit(benchmark::kMicrosecond);
    }
  }
#if STEPGRAD_BENCH_BLAS
  benchmark::RegisterBenchmark("blas_products/batch:128", [](benchmark::State& s) {
    blas_products(s, 128);
  })->Unit(benchmark::kMicrosecond);
#endif
  benchmark::RegisterBenchmark("evaluate/forward_only", evaluate_forward)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("idx_load/train_images", idx_load)->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // Our one flag, --data=DIR; Google Benchmark has taken its own out of argv.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--data=")) {
      g_data_dir = std::string(arg.substr(7));
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (g_data_dir.empty()) g_data_dir = find_data_dir();
  register_benchmarks();
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("build_isa", std::string(build_isa()));
  benchmark::AddCustomContext("cpu_isa", std::string(cpu_isa()));
  benchmark::AddCustomContext(
      "data", data().real ? data().split.description : "synthetic digits (no MNIST)");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
