// 10_train: the article's training run. Per-sample SGD over the article's 49,000-image split for
// 5 epochs, printing the article's figures per epoch (running cost (eq. 7) and accuracy, then the
// test set), and writing out/metrics.csv, out/model.npz and plots of the curves and of W0. After
// each epoch it measures every layer on the first 500 training images (how far it moved, how big
// and how true its step is, how alike its units became): out/layers.csv and out/layers.png.
// Run: build/tutorials/10_train                      (the corrected gradients, on the tape)
//      build/tutorials/10_train --recipe article     (the article's code, erratum E1 included)
#include <array>
#include <cmath>
#include <filesystem>

#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/output_folder.hpp>
#include <stepgrad/cli/plots.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/cli/progress.hpp>
#include <stepgrad/io/files.hpp>
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("train the article's network on MNIST; write metrics, model and plots", "10_train");
  std::string data = "data/mnist", out = "out";
  SplitKind split = SplitKind::article;
  DatasetKind dataset = DatasetKind::mnist;
  TrainOptions o;
  std::size_t limit = 0;
  bool no_plots = false;
  cli::add_choice(app, "--recipe", o.recipe,
                  "article: the article's code (erratum E1); fixed: correct gradients");
  auto* engine_opt =
      cli::add_choice(app, "--engine", o.engine, "who computes the fixed recipe's gradients");
  cli::add_choice(app, "--split", split,
                  "article: the notebook's 49,000/21,000 split; standard: 60,000/10,000");
  cli::add_choice(app, "--dataset", dataset, "mnist, or fashion (Debian's dataset-fashion-mnist)");
  auto* data_opt =
      app.add_option("--data", data, "folder with the four IDX files")->capture_default_str();
  app.add_option("--epochs", o.epochs, "passes over the training set")
      ->check(cli::whole_number(1, 1000))
      ->capture_default_str();
  app.add_option("--lr", o.lr, "learning rate, lambda in eq. (12)")
      ->check(cli::real_number(1e-9, 100.0))
      ->capture_default_str();
  app.add_option("--seed", o.network.seed, "np.random.seed for the initial weights")
      ->capture_default_str();
  app.add_option("--limit", limit,
                 "use only the first N training samples (0: all; the article split has 49,000, the "
                 "standard one 60,000)")
      ->check(cli::whole_number(0, 60000))
      ->capture_default_str();
  app.add_flag("--shuffle", o.shuffle,
               "reshuffle the training set every epoch (the article does not)");
  app.add_option("--batch", o.batch,
                 "samples per SGD step; 1 is the article's, N averages N gradients")
      ->check(cli::whole_number(1, 65536))
      ->capture_default_str();
  app.add_flag("--bias", o.network.bias, "give every layer a bias (the article has none)");
  cli::add_choice(app, "--activation", o.network.activation, "hidden layers' activation");
  cli::add_choice(app, "--init", o.network.init,
                  "scale the initial weights by sqrt(1/fan-out) (article) or sqrt(1/fan-in)");
  app.add_option("--out", out, "folder for metrics.csv, model.npz and the plots")
      ->capture_default_str();
  app.add_flag("--no-plots", no_plots, "skip the PNG plots");

  return cli::run(app, argc, argv, [&] {
    if (o.recipe == Recipe::article && engine_opt->count() > 0 && o.engine == Engine::tape) {
      throw std::invalid_argument(
          "--engine tape: the article recipe is the article's hand-derived deltas; --engine "
          "applies to --recipe fixed");
    }
    // The options line says what runs: the folder read, the engine that computes the steps.
    if (dataset == DatasetKind::fashion && data_opt->count() == 0) {
      data = default_data_dir(dataset).string();
      data_opt->default_str(data);
    }
    if (o.recipe == Recipe::article) {
      o.engine = o.effective_engine();
      engine_opt->default_str(std::string(to_string(o.engine)));
    }
    // Before the long work (R26); the files land together (Note [One set of outputs]).
    OutputSet outputs = cli::open_output_set(
        out, "--out",
        {"metrics.csv", "layers.csv", "model.npz", "curves.png", "weights.png", "layers.png"});
    cli::print_header(app);

    const Split s = load_split(data, split, limit, dataset);
    Network net(o.network);
    // What training changed is measured against these (and drawn, for W0).
    const std::array<Tensor, 3> initial{net.W0.value, net.W1.value, net.W2.value};
    const Subset probe = s.train.first(std::min(kProbeSamples, s.train.size()));
    o.evaluation_threads = cli::evaluation_threads();
    Trainer trainer(net, o);
    fmt::print("data: {}\n", s.description);
    fmt::print("network: 784-128-64-10, {} ({} parameters)\n", o.network.describe(),
               net.parameter_count());
    fmt::print("training: {}\n\n", o.describe());
    fmt::print(
        "cost: eq. (7), the binary cross-entropy the article prints (training minimises\n"
        "-Y · log O3 instead: erratum E2); train figures are running ones, as the article's\n");
    fmt::print("{:>5} {:>11} {:>10} {:>10} {:>9} {:>9} {:>10}\n", "epoch", "train cost",
               "train acc", "test cost", "test acc", "seconds", "samples/s");
    std::vector<LayerReport> layers{measure_layers(net, initial, probe, o.recipe, 0)};

    std::string csv = metrics_csv_header() + "\n";
    cli::TrainingCurves curves;
    for (std::size_t e = 1; e <= o.epochs; ++e) {
      cli::ProgressBar bar(fmt::format("epoch {}/{}", e, o.epochs));
      const EpochMetrics m =
          trainer.run_epoch(s.train, s.test, e, [&](std::size_t d, std::size_t n) { bar(d, n); });
      bar.finish();
      fmt::print("{:>5} {:>11.4f} {:>10.4f} {:>10.4f} {:>9.4f} {:>9.2f} {:>10.0f}\n", m.epoch,
                 m.train_cost, m.train_accuracy, m.test_cost, m.test_accuracy, m.seconds,
                 m.samples_per_second);
      std::fflush(stdout);
      csv += metrics_csv_line(m) + "\n";
      curves.epochs.push_back(static_cast<double>(e));
      curves.train_cost.push_back(m.train_cost);
      curves.test_cost.push_back(m.test_cost);
      curves.train_accuracy.push_back(m.train_accuracy);
      curves.test_accuracy.push_back(m.test_accuracy);
      layers.push_back(measure_layers(net, initial, probe, o.recipe, e));
    }

    fmt::print(
        "\nEach layer after each epoch (0: the initial weights), measured on the first {} "
        "training\n"
        "images: |W - Wi| is how far it moved from its initial weights; |Delta| the mean size of\n"
        "one sample's step (before lambda); size and cos compare it with the true gradient\n"
        "dC/dW (ratio of sizes, cosine); alike is the mean cosine between the rows of W0 - W0i\n"
        "(0: the units learned different things; 1: all the same); Z2 units is how many of\n"
        "Z2's 64 units carry delta2 (participation ratio).\n",
        probe.size());
    print_layer_header();
    std::string layers_csv = layers_csv_header() + "\n";
    for (const LayerReport& r : layers) {
      print_layer_line(r);
      layers_csv += layers_csv_line(r) + "\n";
    }

    fmt::print("\n");
    std::vector<std::string> done;  // what to say once the set is in place
    write_file_atomic(outputs.path("metrics.csv"), csv);
    done.push_back(fmt::format("wrote {}", (outputs.dir() / "metrics.csv").string()));
    write_file_atomic(outputs.path("layers.csv"), layers_csv);
    done.push_back(fmt::format("wrote {}", (outputs.dir() / "layers.csv").string()));
    save_model(outputs.path("model.npz"), net,
               fmt::format("{} split={} dataset={} limit={}", o.describe(), to_string(split),
                           to_string(dataset), limit));
    done.push_back(fmt::format("wrote {}", (outputs.dir() / "model.npz").string()));
    if (!no_plots) {
      const std::string title = fmt::format("recipe {}, {}, lr {}", to_string(o.recipe),
                                            to_string(o.effective_engine()), o.lr);
      curves.cost_label = "cost (7), binary cross-entropy";
      done.push_back(cli::final_message(
          outputs, "curves.png",
          cli::plot_training_curves(outputs.path("curves.png"), title, curves).message));
      // The learned part of W0: at lr 0.001 the random initial weights still dominate W0
      // itself, so the picture shows W0 - W0(initial), what the epochs wrote into each unit.
      done.push_back(cli::final_message(
          outputs, "weights.png",
          cli::plot_weight_tiles(outputs.path("weights.png"),
                                 "W0 - W0(initial): what training taught each first-layer unit",
                                 net.W0.value - initial[0])
              .message));
      done.push_back(cli::final_message(outputs, "layers.png",
                                        plot_layers(outputs.path("layers.png"), title, layers)));
    }
    outputs.commit();
    for (const std::string& line : done) fmt::print("{}\n", line);
    return 0;
  });
}
