// 10_train: the article's training run. Per-sample SGD over the article's 49,000-image split for
// 5 epochs, printing the article's figures per epoch (running cost (eq. 7) and accuracy, then the
// test set), and writing out/metrics.csv, out/model.npz and plots of the curves and of W0. After
// each epoch it measures every layer on the first 500 training images (how far it moved, how big
// and how true its step is, how alike its units became): out/layers.csv and out/layers.png.
// Run: build/tutorials/10_train                      (the corrected gradients, on the tape)
//      build/tutorials/10_train --recipe article     (the article's code, erratum E1 included)
// Docs: docs/10_train.md (中文: docs/zh/10_train.md)
#include <array>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <vector>

#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/output_folder.hpp>
#include <stepgrad/cli/plots.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/cli/progress.hpp>
#include <stepgrad/io/files.hpp>
#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/model.hpp>
#include <stepgrad/nn/train.hpp>

using namespace stepgrad;
namespace fs = std::filesystem;

namespace {

// The training images every layer is measured on after each epoch (measure_layers).
constexpr std::size_t kProbeSamples = 500;

void print_layer_header() {
  fmt::print("{:>5} {:^26} {:^26} {:^27} {:>6} {:>7}\n", "", "how far W moved", "size of the step",
             "the step vs the true grad.", "W0", "Z2");
  fmt::print("{:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7}\n",
             "epoch", "|W0-W0i|", "|W1-W1i|", "|W2-W2i|", "|Delta0|", "|Delta1|", "|Delta2|",
             "size0", "cos0", "size1", "cos1", "alike", "units");
}

void print_layer_line(const LayerReport& r) {
  const auto& [l0, l1, l2] = r.layers;
  const std::string alike = r.epoch == 0 ? "-" : fmt::format("{:.3f}", l0.units_alike);
  fmt::print(
      "{:>5} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.4f} {:>8.4f} {:>8.4f} {:>6.3f} {:>6.3f} {:>6.3f} "
      "{:>6.3f} {:>6} {:>7.2f}\n",
      r.epoch, l0.weight_change, l1.weight_change, l2.weight_change, l0.step_norm, l1.step_norm,
      l2.step_norm, l0.step_norm / l0.true_norm, l0.cosine, l1.step_norm / l1.true_norm, l1.cosine,
      alike, r.delta2_units);
}

// layers.png: how far each layer moved, and how its step compares with the true gradient.
std::string plot_layers(const fs::path& path, const std::string& run,
                        const std::vector<LayerReport>& layers) {
  std::vector<double> x;
  std::vector<cli::Series> moved, size, direction;
  for (std::size_t l = 0; l < 3; ++l) {
    moved.push_back({fmt::format("|W{} - W{}(initial)|", l, l), {}});
    size.push_back({fmt::format("W{}: |Delta{}| / |dC/dW{}|", l, l, l), {}});
    direction.push_back({fmt::format("W{}: cosine(Delta{}, dC/dW{})", l, l, l), {}});
  }
  direction.push_back({"W0: units alike (rows of W0 - W0(initial))", {}});
  for (const LayerReport& r : layers) {
    x.push_back(static_cast<double>(r.epoch));
    for (std::size_t l = 0; l < 3; ++l) {
      moved[l].y.push_back(r.layers[l].weight_change);
      size[l].y.push_back(r.layers[l].step_norm / r.layers[l].true_norm);
      direction[l].y.push_back(r.layers[l].cosine);
    }
    direction[3].y.push_back(r.epoch == 0 ? std::nan("") : r.layers[0].units_alike);
  }
  return cli::plot_panels(path, fmt::format("Each layer during training ({})", run),
                          "epoch (0: the initial weights)", x,
                          {{"how far each layer moved", "Frobenius norm", moved},
                           {"size of the step: recipe / true gradient", "ratio of norms", size},
                           {"direction of the step; W0's units alike", "cosine", direction}})
      .message;
}

// What a run is made of: the recipe and network (TrainOptions), the data, where the files go.
struct Settings {
  TrainOptions train;
  std::string data = "data/mnist";
  SplitKind split = SplitKind::article;
  DatasetKind dataset = DatasetKind::mnist;
  std::size_t limit = 0;
  cli::OutputOptions out;
};

// The options, in the order the header prints them.
void add_options(CLI::App& app, Settings& s) {
  TrainOptions& o = s.train;
  cli::add_choice(app, "--recipe", o.recipe,
                  "article: the article's code (erratum E1); fixed: correct gradients; "
                  "article-rescaled: the article's delta2 with the true delta2's length");
  cli::add_choice(app, "--engine", o.engine, "who computes the fixed recipe's gradients");
  cli::add_choice(app, "--split", s.split,
                  "article: the notebook's 49,000/21,000 split; standard: 60,000/10,000");
  cli::add_choice(app, "--dataset", s.dataset,
                  "mnist, or fashion (Debian's dataset-fashion-mnist)");
  cli::add_data_option(app, s.data, "folder with the four IDX files");
  cli::add_whole(app, "--epochs", o.epochs, "passes over the training set", 1, 1000);
  cli::add_real(app, "--lr", o.lr, "learning rate, lambda in eq. (12)", 1e-9, 100.0);
  cli::add_seed_option(app, o.network.seed);
  cli::add_whole(app, "--limit", s.limit,
                 "use only the first N training samples (0: all; the article split has 49,000, the "
                 "standard one 60,000)",
                 0, 60000);
  app.add_flag("--shuffle", o.shuffle,
               "reshuffle the training set every epoch (the article does not)");
  cli::add_whole(app, "--batch", o.batch,
                 "samples per SGD step; 1 is the article's, N averages N gradients", 1, 65536);
  app.add_flag("--bias", o.network.bias, "give every layer a bias (the article has none)");
  cli::add_choice(app, "--activation", o.network.activation, "hidden layers' activation");
  cli::add_choice(app, "--init", o.network.init,
                  "scale the initial weights by sqrt(1/fan-out) (article) or sqrt(1/fan-in)");
  cli::add_output_options(app, s.out, "metrics.csv, model.npz and the plots");
}

// --engine against --recipe; then the options line says what runs: the folder read, the engine
// that computes the steps.
void settle(CLI::App& app, Settings& s) {
  TrainOptions& o = s.train;
  if (uses_article_eq9(o.recipe) && app.count("--engine") > 0 && o.engine == Engine::tape) {
    throw std::invalid_argument(
        fmt::format("--engine tape: the {} recipe is the article's hand-derived deltas; --engine "
                    "applies to --recipe fixed",
                    to_string(o.recipe)));
  }
  if (s.dataset == DatasetKind::fashion && app.count("--data") == 0) {
    s.data = default_data_dir(s.dataset).string();
    app.get_option("--data")->default_str(s.data);
  }
  if (uses_article_eq9(o.recipe)) {
    o.engine = o.effective_engine();
    app.get_option("--engine")->default_str(std::string(to_string(o.engine)));
  }
}

// What the epochs leave: the article's figures per epoch, and each layer measured after each.
struct History {
  std::string csv = metrics_csv_header() + "\n";  // metrics.csv
  cli::TrainingCurves curves;
  std::vector<LayerReport> layers;  // epoch 0 (the initial weights), 1, 2, ...
};

// The first n training images and their labels, one per column, as measure_layers takes them.
struct Probe {
  Tensor X;  // (784, n)
  Tensor Y;  // (10, n)
  Probe(const Subset& train, std::size_t n) {
    std::vector<std::size_t> samples(n);
    std::iota(samples.begin(), samples.end(), std::size_t{0});
    train.inputs(samples, X);
    train.one_hots(samples, Y);
  }
};

// The epochs, one line each (eq. 7's cost and the accuracy, train and test), with a progress bar.
History train(Trainer& trainer, Network& net, const TrainOptions& o, const Split& s,
              const std::array<Tensor, 3>& initial, const Probe& probe) {
  fmt::print("{:>5} {:>11} {:>10} {:>10} {:>9} {:>9} {:>10}\n", "epoch", "train cost", "train acc",
             "test cost", "test acc", "seconds", "samples/s");
  History h;
  h.layers.push_back(measure_layers(net, initial, probe.X, probe.Y, o.recipe, 0));
  for (std::size_t e = 1; e <= o.epochs; ++e) {
    cli::ProgressBar bar(fmt::format("epoch {}/{}", e, o.epochs));
    const EpochMetrics m =
        trainer.run_epoch(s.train, s.test, e, [&](std::size_t d, std::size_t n) { bar(d, n); });
    bar.finish();
    fmt::print("{:>5} {:>11.4f} {:>10.4f} {:>10.4f} {:>9.4f} {:>9.2f} {:>10.0f}\n", m.epoch,
               m.train_cost, m.train_accuracy, m.test_cost, m.test_accuracy, m.seconds,
               m.samples_per_second);
    std::fflush(stdout);
    h.csv += metrics_csv_line(m) + "\n";
    h.curves.epochs.push_back(static_cast<double>(e));
    h.curves.train_cost.push_back(m.train_cost);
    h.curves.test_cost.push_back(m.test_cost);
    h.curves.train_accuracy.push_back(m.train_accuracy);
    h.curves.test_accuracy.push_back(m.test_accuracy);
    h.layers.push_back(measure_layers(net, initial, probe.X, probe.Y, o.recipe, e));
  }
  return h;
}

// The table of each layer after each epoch; returns it as layers.csv.
std::string print_layers(const std::vector<LayerReport>& layers, std::size_t probe_size) {
  fmt::print(
      "\nEach layer after each epoch (0: the initial weights), measured on the first {} "
      "training\n"
      "images: |W - Wi| is how far it moved from its initial weights; |Delta| the mean size of\n"
      "one sample's step (before lambda); size and cos compare it with the true gradient\n"
      "dC/dW (ratio of sizes, cosine); alike is the mean cosine between the rows of W0 - W0i\n"
      "(0: the units learned different things; 1: all the same); Z2 units is how many of\n"
      "Z2's 64 units carry delta2 (participation ratio).\n",
      probe_size);
  print_layer_header();
  std::string csv = layers_csv_header() + "\n";
  for (const LayerReport& r : layers) {
    print_layer_line(r);
    csv += layers_csv_line(r) + "\n";
  }
  return csv;
}

// The pictures: the article's two figures, what training wrote into W0, each layer's story.
// Returns the lines to print once the set is in place.
std::vector<std::string> draw(const OutputSet& outputs, const TrainOptions& o, History& h,
                              const Tensor& learned_W0) {
  const std::string title = fmt::format("recipe {}, {}, lr {}", to_string(o.recipe),
                                        to_string(o.effective_engine()), o.lr);
  h.curves.cost_label = "cost (7), binary cross-entropy";
  std::vector<std::string> done;
  done.push_back(cli::final_message(
      outputs, "curves.png",
      cli::plot_training_curves(outputs.path("curves.png"), title, h.curves).message));
  // The learned part of W0: at lr 0.001 the random initial weights still dominate W0
  // itself, so the picture shows W0 - W0(initial), what the epochs wrote into each unit.
  done.push_back(cli::final_message(
      outputs, "weights.png",
      cli::plot_weight_tiles(outputs.path("weights.png"),
                             "W0 - W0(initial): what training taught each first-layer unit",
                             learned_W0)
          .message));
  done.push_back(cli::final_message(outputs, "layers.png",
                                    plot_layers(outputs.path("layers.png"), title, h.layers)));
  return done;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("train the article's network on MNIST; write metrics, model and plots", "10_train");
  Settings settings;
  add_options(app, settings);
  return cli::run(app, argc, argv, [&] {
    settle(app, settings);
    TrainOptions& o = settings.train;
    // Before the long work (R26); the files land together (Note [One set of outputs]).
    OutputSet outputs = cli::open_output_set(
        settings.out.dir, "--out",
        {"metrics.csv", "layers.csv", "model.npz", "curves.png", "weights.png", "layers.png"});
    cli::print_header(app);

    const Split s = load_split(settings.data, settings.split, settings.limit, settings.dataset);
    Network net(o.network);
    // What training changed is measured against these (and drawn, for W0).
    const std::array<Tensor, 3> initial{net.W0.value, net.W1.value, net.W2.value};
    const Probe probe(s.train, std::min(kProbeSamples, s.train.size()));
    o.evaluation_threads = cli::evaluation_threads();
    Trainer trainer(net, o);
    fmt::print("data: {}\n", s.description);
    fmt::print("network: 784-128-64-10, {} ({} parameters)\n", o.network.describe(),
               net.parameter_count());
    fmt::print("training: {}\n\n", o.describe());
    fmt::print(
        "cost: eq. (7), the binary cross-entropy the article prints (training minimises\n"
        "-Y · log O3 instead: erratum E2); train figures are running ones, as the article's\n");
    History h = train(trainer, net, o, s, initial, probe);
    const std::string layers_csv = print_layers(h.layers, probe.X.cols());

    fmt::print("\n");
    std::vector<std::string> done;  // what to say once the set is in place
    write_file_atomic(outputs.path("metrics.csv"), h.csv);
    done.push_back(fmt::format("wrote {}", (outputs.dir() / "metrics.csv").string()));
    write_file_atomic(outputs.path("layers.csv"), layers_csv);
    done.push_back(fmt::format("wrote {}", (outputs.dir() / "layers.csv").string()));
    save_model(outputs.path("model.npz"), net,
               fmt::format("{} split={} dataset={} limit={}", o.describe(),
                           to_string(settings.split), to_string(settings.dataset), settings.limit));
    done.push_back(fmt::format("wrote {}", (outputs.dir() / "model.npz").string()));
    if (!settings.out.no_plots) {
      for (std::string& line : draw(outputs, o, h, net.W0.value - initial[0])) done.push_back(line);
    }
    outputs.commit();
    for (const std::string& line : done) fmt::print("{}\n", line);
    return 0;
  });
}
