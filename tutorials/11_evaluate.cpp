// 11_evaluate: a trained model on the test set. Loads out/model.npz (from 10_train), prints the
// test cost and accuracy, each digit's precision and recall, the confusion matrix, and the test
// digits the model got wrong with the most confidence, as ASCII art; plots the confusion matrix
// and a grid of predictions. Run: build/tutorials/11_evaluate [--model out/model.npz]
// Docs: docs/11_evaluate.md (中文: docs/zh/11_evaluate.md)
#include <algorithm>
#include <charconv>
#include <map>
#include <numeric>
#include <optional>

#include <stepgrad/cli/article_sample.hpp>
#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/output_folder.hpp>
#include <stepgrad/cli/plots.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/io/files.hpp>
#include <stepgrad/nn/model.hpp>
#include <stepgrad/nn/train.hpp>

using namespace stepgrad;

namespace {

// What a run reads and writes: the model, its data (the model's own unless given), the pictures.
struct Settings {
  std::string model = "out/model.npz";
  std::string data;  // empty: as the model was trained
  SplitKind split = SplitKind::article;
  DatasetKind dataset = DatasetKind::mnist;
  std::size_t worst = 6;
  cli::OutputOptions out;
  std::string predictions;  // a CSV of every answer, or none
};

// The options, in the order the header prints them.
void add_options(CLI::App& app, Settings& s) {
  cli::add_value(app, "--model", s.model, "model file written by 10_train");
  app.add_option("--data", s.data,
                 "folder with the four IDX files (default: as the model was trained)");
  cli::add_choice(app, "--split", s.split, "the model's split by default")->default_str("");
  cli::add_choice(app, "--dataset", s.dataset, "the model's dataset by default")->default_str("");
  cli::add_whole(app, "--worst", s.worst, "how many confident mistakes to draw", 0, 100);
  cli::add_output_options(app, s.out, "confusion.png and predictions.png");
  app.add_option(
         "--predictions", s.predictions,
         "also write every test image's prediction to this CSV file (index,label,predicted)")
      ->check(cli::output_file(false));  // its folder must exist; checked before any work (R36)
}

// Another split than the model's mixes its training images into the test set: the article
// split pools both MNIST files, so each split's test set holds the other's training images.
// Says so when it happens.
void warn_if_trained_on(const Split& s, const OptionsLine& trained, const Settings& st) {
  if (!trained.contains("split") ||
      parse_enum<SplitKind>(trained.at("split"), "split") == st.split ||
      (trained.contains("dataset") &&
       parse_enum<DatasetKind>(trained.at("dataset"), "dataset") != st.dataset)) {
    return;
  }
  std::size_t trained_limit = 0;
  if (trained.contains("limit")) {
    const std::string& text = trained.at("limit");
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), trained_limit);
    if (ec != std::errc() || end != text.data() + text.size()) {
      throw std::invalid_argument(
          fmt::format("{}: options: limit={} is not a number", st.model, text));
    }
  }
  const Split t = load_split(st.data, parse_enum<SplitKind>(trained.at("split"), "split"),
                             trained_limit, st.dataset);
  std::vector<bool> seen(s.train.size() + s.test.size());  // the pool: s has no --limit
  for (std::size_t i = 0; i < t.train.size(); ++i) seen.at(t.train.index(i)) = true;
  std::size_t overlap = 0;
  for (std::size_t i = 0; i < s.test.size(); ++i) {
    if (seen.at(s.test.index(i))) ++overlap;
  }
  if (overlap > 0) {
    fmt::print(
        "WARNING: the model was trained on the {} split; {} of these {} test images were "
        "among\nits training images, so the figures below are not a test (use --split {}).\n\n",
        trained.at("split"), overlap, s.test.size(), trained.at("split"));
  }
}

using Confusion = std::vector<std::vector<std::int64_t>>;  // [true digit][predicted digit]

// Each digit's precision and recall, then the confusion matrix.
void print_confusion(const Confusion& confusion) {
  fmt::print("digit  precision  recall  images\n");
  for (std::size_t d = 0; d < kNumClasses; ++d) {
    std::int64_t predicted_d = 0;
    std::int64_t true_d = 0;
    for (std::size_t k = 0; k < kNumClasses; ++k) {
      predicted_d += confusion[k][d];
      true_d += confusion[d][k];
    }
    const auto ratio = [](std::int64_t a, std::int64_t b) {
      return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
    };
    fmt::print("{:>5} {:>10.4f} {:>7.4f} {:>7}\n", d, ratio(confusion[d][d], predicted_d),
               ratio(confusion[d][d], true_d), true_d);
  }

  fmt::print("\nconfusion matrix (rows: true digit, columns: predicted)\n     ");
  for (std::size_t d = 0; d < kNumClasses; ++d) fmt::print("{:>6}", d);
  fmt::print("\n");
  for (std::size_t t = 0; t < kNumClasses; ++t) {
    fmt::print("{:>5}", t);
    for (std::size_t d = 0; d < kNumClasses; ++d) fmt::print("{:>6}", confusion[t][d]);
    fmt::print("\n");
  }
}

// The `worst` mistakes made with the most confidence, each digit drawn as text.
void print_worst_mistakes(const Evaluation& e, const Subset& test, std::size_t worst) {
  std::vector<std::size_t> wrong;
  for (std::size_t i = 0; i < e.truth.size(); ++i)
    if (e.predicted[i] != e.truth[i]) wrong.push_back(i);
  std::stable_sort(wrong.begin(), wrong.end(),
                   [&](std::size_t a, std::size_t b) { return e.confidence[a] > e.confidence[b]; });
  wrong.resize(std::min(worst, wrong.size()));
  if (!wrong.empty()) fmt::print("\nthe {} most confident mistakes\n", wrong.size());
  for (std::size_t i : wrong) {
    fmt::print("\ntest image {}: predicted {} with probability {:.4f}, true label {}\n{}", i,
               e.predicted[i], e.confidence[i], e.truth[i], cli::ascii_digit(test.pixels(i)));
  }
}

// confusion.png and predictions.png (the first 60 test digits), committed together; prints
// what came of them.
void draw(OutputSet& outputs, const Confusion& confusion, const Evaluation& e, const Subset& test) {
  const std::string confusion_line = cli::final_message(
      outputs, "confusion.png",
      cli::plot_confusion_matrix(outputs.path("confusion.png"),
                                 "Confusion matrix (colour: share of the true digit)", confusion)
          .message);
  std::vector<cli::DigitPrediction> digits;
  for (std::size_t i = 0; i < std::min<std::size_t>(60, e.truth.size()); ++i) {
    const auto px = test.pixels(i);
    digits.push_back({std::vector<std::uint8_t>(px.begin(), px.end()), e.predicted[i], e.truth[i]});
  }
  const std::string predictions_line = cli::final_message(
      outputs, "predictions.png",
      cli::plot_digit_predictions(outputs.path("predictions.png"),
                                  "The first 60 test digits and the network's answers", digits)
          .message);
  outputs.commit();
  fmt::print("\n{}\n{}\n", confusion_line, predictions_line);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("evaluate a trained model on the test set: accuracy, confusion, worst mistakes",
               "11_evaluate");
  Settings st;
  add_options(app, st);
  return cli::run(app, argc, argv, [&] {
    // Its pictures must be writable before anything else (R25, R26); --predictions was checked
    // with the options.
    std::optional<OutputSet> outputs;
    if (!st.out.no_plots) {
      outputs.emplace(
          cli::open_output_set(st.out.dir, "--out", {"confusion.png", "predictions.png"}));
    }
    cli::print_header(app);
    const Model m = load_model(st.model);
    // The model's split and dataset (load_model checked their values), unless given.
    const OptionsLine trained = parse_options_line(m.options);
    if (app.count("--split") == 0 && trained.contains("split")) {
      st.split = parse_enum<SplitKind>(trained.at("split"), "split");
    }
    if (app.count("--dataset") == 0 && trained.contains("dataset")) {
      st.dataset = parse_enum<DatasetKind>(trained.at("dataset"), "dataset");
    }
    if (st.data.empty()) st.data = default_data_dir(st.dataset).string();
    const Split s = load_split(st.data, st.split, 0, st.dataset);
    fmt::print("model: {} ({})\ndata: {}\n\n", st.model, m.options, s.description);
    warn_if_trained_on(s, trained, st);

    const Evaluation e = evaluate(m.network, s.test, cli::evaluation_threads());
    fmt::print("test set: {} images\n", e.truth.size());
    fmt::print("  mean cost, eq. (7):           {:.4f}\n", e.cost);
    fmt::print("  mean cross-entropy -Y·log O3: {:.4f}\n", e.cross_entropy);
    fmt::print("  accuracy:                     {:.4f}\n\n", e.accuracy);
    // Every answer, for another program to compare (scripts/pytorch_twin.py does).
    if (!st.predictions.empty()) {
      std::string csv = "index,label,predicted\n";
      for (std::size_t i = 0; i < e.truth.size(); ++i)
        csv += fmt::format("{},{},{}\n", i, e.truth[i], e.predicted[i]);
      write_file_atomic(st.predictions, csv);
      fmt::print("wrote {}\n\n", st.predictions);
    }

    Confusion confusion(kNumClasses, std::vector<std::int64_t>(kNumClasses, 0));
    for (std::size_t i = 0; i < e.truth.size(); ++i) ++confusion[e.truth[i]][e.predicted[i]];
    print_confusion(confusion);
    print_worst_mistakes(e, s.test, st.worst);
    if (outputs) draw(*outputs, confusion, e, s.test);
    return 0;
  });
}
