// 13_your_network: networks of your own, built from the engine's ops. First XOR with a 2-2-1
// network whose every weight, value and gradient of one step is printed, trained until it is
// solved; then scikit-learn's two moons with a 2-16-16-1 network of Linear layers and minibatch
// SGD, drawing the decision boundary as it forms (13_boundary.png) and the loss (13_loss.png).
// Run: build/tutorials/13_your_network [--seed S] [--moons N] [--noise S] [--epochs E] [--out DIR]
// Docs: docs/13_your_network.md (中文: docs/zh/13_your_network.md)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/output_folder.hpp>
#include <stepgrad/cli/plots.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/cli/tracer.hpp>
#include <stepgrad/nn/linear.hpp>
#include <stepgrad/nn/toy_data.hpp>
#include <stepgrad/nn/train.hpp>

using namespace stepgrad;

namespace {

// ---- 1. XOR, every op in plain sight ----

/// The 2-2-1 network: Z1 = W0 · O0 + b0, O1 = tanh(Z1), Z2 = W1 · O1 + b1, O2 = sigmoid(Z2).
struct XorNet {
  Parameter W0, b0;  // (2, 2), (2,)
  Parameter W1, b1;  // (1, 2), (1,)
};

struct Recorded {
  Var out;  ///< the network's output: O2 for XOR, O3 for the moons
  Var C;    ///< the loss
};

/// The network and its loss on `tape`, for the samples X (2, n) (one per column) and their
/// targets Y (1, n). C is the binary cross-entropy summed over the samples.
Recorded record_xor(Tape& tape, XorNet& net, const Tensor& X, const Tensor& Y) {
  const Var O0 = tape.input(X, "O0");
  const Var W0 = tape.param(net.W0), b0 = tape.param(net.b0);
  const Var Z1 = add_to_columns(matmul(W0, O0).named("W0·O0"), b0).named("Z1");
  const Var O1 = tanh(Z1).named("O1");
  const Var W1 = tape.param(net.W1), b1 = tape.param(net.b1);
  const Var Z2 = add_to_columns(matmul(W1, O1).named("W1·O1"), b1).named("Z2");
  const Var O2 = sigmoid(Z2).named("O2");
  return {O2, binary_cross_entropy(O2, tape.input(Y, "Y")).named("C")};
}

void print_tensor(std::string_view title, const Tensor& t) {
  fmt::print("  {}  {}\n{}\n", title, t.shape(), cli::indented(format_values(t), "      "));
}

/// Each output within 0.1 of its target: all four rows of the truth table right, with room.
bool solved(const Tensor& O2, const Tensor& Y) {
  for (std::size_t i = 0; i < Y.size(); ++i) {
    if (std::abs(O2[i] - Y[i]) >= 0.1) return false;
  }
  return true;
}

void run_xor(std::uint32_t seed, double lr, std::size_t max_steps) {
  fmt::print("1. XOR with a 2-2-1 network, every op in plain sight\n");
  fmt::print("   Z1 = W0 · O0 + b0, O1 = tanh(Z1), Z2 = W1 · O1 + b1, O2 = sigmoid(Z2)\n");
  fmt::print("   C = binary cross-entropy of O2 against Y, summed over the four samples\n");
  fmt::print("   W = RandomState({}).randn(out, in) · sqrt(1 / in), b = 0; SGD, lr {:g}\n\n", seed,
             lr);
  const Tensor X = Tensor::matrix({{0, 0, 1, 1}, {0, 1, 0, 1}});  // (2, 4): a sample per column
  const Tensor Y = Tensor::matrix({{0, 1, 1, 0}});                // (1, 4): x1 XOR x2
  RandomState rng(seed);
  XorNet net{
      Parameter("W0", std::sqrt(1.0 / 2) * rng.randn(2, 2)), Parameter("b0", Tensor::zeros(2)),
      Parameter("W1", std::sqrt(1.0 / 2) * rng.randn(1, 2)), Parameter("b1", Tensor::zeros(1))};

  Tape tape;
  const Var C = record_xor(tape, net, X, Y).C;
  fmt::print("Forward: the tape, node by node, with its value\n");
  for (std::size_t i = 0; i < tape.size(); ++i) print_tensor(tape.label(i), tape.node(i).value());
  C.backward();
  fmt::print("\nBackward: dC/d(node) for every node the gradient reaches, from C back\n");
  for (std::size_t i = tape.size(); i-- > 0;) {
    Node& n = tape.node(i);
    if (!n.requires_grad) continue;  // the inputs O0 and Y
    print_tensor(fmt::format("grad {}", n.name), n.grad());
  }
  fmt::print("\nThe step, W <- W - {:g} grad W for each parameter (eq. 12)\n", lr);
  const std::vector<Parameter*> params = tape.parameters();  // W0, b0, W1, b1
  sgd_step(params, lr);
  for (const Parameter* p : params) print_tensor(p->name, p->value);

  fmt::print("\nTraining until every output is within 0.1 of its target\n");
  fmt::print("{:>7} {:>10}   {}\n", "step", "C", "O2 for (0,0) (0,1) (1,0) (1,1)");
  std::size_t next_report = 10;
  Tensor O2;                             // (1, 4)
  for (std::size_t step = 1;; ++step) {  // step 1 is the one above
    tape.clear();
    const auto [out, c] = record_xor(tape, net, X, Y);
    O2 = out.value();
    const bool done = solved(O2, Y);
    if (step == next_report || done || step == max_steps) {
      fmt::print("{:>7} {:>10.4f}   [{:.4f} {:.4f} {:.4f} {:.4f}]\n", step, c.value().item(), O2[0],
                 O2[1], O2[2], O2[3]);
      next_report *= 10;
    }
    if (done || step == max_steps) {
      fmt::print("{}\n\n", done ? fmt::format("solved after {} steps", step)
                                : fmt::format("NOT solved after {} steps: stuck", step));
      break;
    }
    require_finite_cost(c.value().item(), step, lr);  // a diverged loss stops in one line (R47)
    c.backward();
    sgd_step(params, lr);
  }
  fmt::print("The truth table\n{:>4} {:>4} {:>5} {:>9} {:>9}\n", "x1", "x2", "XOR", "network",
             "rounded");
  for (std::size_t i = 0; i < 4; ++i) {
    fmt::print("{:>4} {:>4} {:>5} {:>9.4f} {:>9}\n", X(0, i), X(1, i), Y[i], O2[i],
               O2[i] >= 0.5 ? 1 : 0);
  }
  fmt::print("\n");
}

// ---- 2. Two moons, with Linear layers ----

/// 2-H-H-1: relu hidden layers, a sigmoid output.
struct Mlp {
  Linear layer0, layer1, layer2;
  Mlp(std::size_t hidden, RandomState& rng)
      : layer0(2, hidden, rng, "0"),
        layer1(hidden, hidden, rng, "1"),
        layer2(hidden, 1, rng, "2") {}
  /// P(class 1) for each column of O0 (2, n): sigmoid(Z3), (1, n).
  Var operator()(Var O0) {
    const Var O1 = relu(layer0(O0));
    const Var O2 = relu(layer1(O1));
    return sigmoid(layer2(O2));
  }
};

/// The network on points X (2, n) and its mean binary cross-entropy against Y (1, n).
Recorded record_loss(Tape& tape, Mlp& net, const Tensor& X, const Tensor& Y) {
  const Var O3 = net(tape.input(X, "O0"));
  const double mean = 1.0 / static_cast<double>(X.cols());
  return {O3, mean * binary_cross_entropy(O3, tape.input(Y, "Y"))};
}

/// The labels as the network's targets: (1, n), 0.0 or 1.0.
Tensor targets(const std::vector<int>& y) {
  Tensor Y = Tensor::zeros(1, y.size());
  for (std::size_t i = 0; i < y.size(); ++i) Y[i] = y[i];
  return Y;
}

struct Score {
  double loss = 0.0;
  double accuracy = 0.0;
};

/// The network's mean loss and accuracy on all of `d`, output >= 0.5 meaning class 1.
Score score(Mlp& net, const LabelledPoints& d) {
  Tape tape;
  const Tensor Y = targets(d.y);
  const auto [O3, C] = record_loss(tape, net, d.X, Y);
  const Tensor& P = O3.value();  // (1, n): P(class 1) for each point
  std::size_t right = 0;
  for (std::size_t i = 0; i < d.y.size(); ++i) right += (P[i] >= 0.5) == (d.y[i] == 1) ? 1u : 0u;
  return {C.value().item(), static_cast<double>(right) / static_cast<double>(d.y.size())};
}

// The cells of a plane map: 168 x 108.
constexpr std::size_t kMapCols = 168, kMapRows = 108;

/// The network's output over the rectangle the moons live in.
cli::PlaneMap plane_map(Mlp& net, std::string title) {
  cli::PlaneMap m{std::move(title), -1.6, 2.6, -1.1, 1.6, kMapCols, kMapRows, {}};
  Tensor G = Tensor::zeros(2, m.cols * m.rows);  // the centres of the cells, row by row
  for (std::size_t r = 0; r < m.rows; ++r) {
    for (std::size_t c = 0; c < m.cols; ++c) {
      const double u = (static_cast<double>(c) + 0.5) / static_cast<double>(m.cols);
      const double v = (static_cast<double>(r) + 0.5) / static_cast<double>(m.rows);
      G(0, r * m.cols + c) = m.x_min + (m.x_max - m.x_min) * u;
      G(1, r * m.cols + c) = m.y_min + (m.y_max - m.y_min) * v;
    }
  }
  Tape tape;
  const Var P = net(tape.input(G));
  m.p.assign(P.value().values().begin(), P.value().values().end());
  return m;
}

struct MoonsOptions {
  std::size_t n = 200;
  double noise = 0.2;
  std::size_t hidden = 16;
  std::size_t epochs = 300;
  std::size_t batch = 20;
  double lr = 0.3;
};

/// The memory a moons run needs, in bytes: its two largest tapes, at 8 bytes a double (R38).
/// A training step's tape holds six (H, B) nodes, each layer's product, bias and relu, each
/// with its value and its gradient: 12 doubles per unit per minibatch point. Tape::clear keeps
/// that memory while score() records the same six nodes, values only, for the n points of a
/// set, or plane_map for its cells: 6 doubles per unit per point. (Peak RSS measured: 754 MB
/// for --moons 20000 --hidden 256 --batch 20000, estimated 737 MB; 261 MB with --batch 20,
/// estimated 246 MB.)
std::uint64_t moons_bytes(const MoonsOptions& mo, bool maps) {
  const std::uint64_t points = std::max<std::uint64_t>(mo.n, maps ? kMapCols * kMapRows : 0);
  return 8 * std::uint64_t{mo.hidden} * (12 * std::uint64_t{mo.batch} + 6 * points);
}

/// The epochs the table shows: roughly evenly on a log scale, and the last.
bool reported(std::size_t epoch, std::size_t last) {
  for (std::size_t e : {0u, 1u, 2u, 5u, 10u, 20u, 50u, 100u, 200u, 500u, 1000u, 2000u, 5000u})
    if (e == epoch) return true;
  return epoch == last;
}

// What a run is made of: the printing options and --seed, XOR's rate and patience, the moons.
struct Settings {
  cli::CommonOptions common;
  double xor_lr = 0.5;
  std::size_t xor_steps = 10000;
  MoonsOptions moons;
  cli::OutputOptions out;
};

// The options, in the order the header prints them.
void add_options(CLI::App& app, Settings& s) {
  // Every tensor of the XOR step is small enough to print whole: no --full.
  cli::add_common_options(app, s.common, cli::kSeed | cli::kNoFull);
  MoonsOptions& mo = s.moons;
  cli::add_real(app, "--xor-lr", s.xor_lr, "XOR's learning rate", 1e-9, 100.0);
  cli::add_whole(app, "--xor-steps", s.xor_steps, "give up on XOR after this many steps", 1,
                 10000000);
  cli::add_whole(app, "--moons", mo.n, "points in each moons data set (train and test)", 2, 100000);
  cli::add_real(app, "--noise", mo.noise, "standard deviation of the moons' noise", 0.0, 10.0);
  cli::add_whole(app, "--hidden", mo.hidden, "units in each of the two hidden layers", 1, 1024);
  cli::add_whole(app, "--epochs", mo.epochs, "passes over the moons", 1, 100000);
  cli::add_whole(app, "--batch", mo.batch, "points per SGD step (at most --moons)", 1, 100000);
  cli::add_real(app, "--lr", mo.lr, "the moons' learning rate", 1e-9, 100.0);
  cli::add_output_options(app, s.out, "13_boundary.png and 13_loss.png");
}

// What training on the moons leaves for the pictures: the boundary at a few moments, the loss
// per epoch.
struct MoonsHistory {
  LabelledPoints train;  // the points it learned from, drawn on every panel
  std::vector<cli::PlaneMap> maps;
  std::vector<double> epochs, train_loss, test_loss;
};

// Trains the 2-H-H-1 network on make_moons(seed) by minibatch SGD, printing the loss and
// accuracy on the train and test points at the reported epochs.
MoonsHistory run_moons(const MoonsOptions& mo, std::uint32_t seed, bool maps_wanted) {
  fmt::print("2. Two moons with a 2-{0}-{0}-1 network of Linear layers\n", mo.hidden);
  MoonsHistory h{make_moons(mo.n, mo.noise, seed), {}, {}, {}, {}};
  const LabelledPoints& train = h.train;
  const LabelledPoints test = make_moons(mo.n, mo.noise, seed + 1);
  fmt::print("   train: make_moons({}, noise={:g}, random_state={}), scikit-learn's points\n", mo.n,
             mo.noise, seed);
  fmt::print("   test:  make_moons({}, noise={:g}, random_state={})\n", mo.n, mo.noise, seed + 1);
  fmt::print("   O1 = relu(W0 · O0 + b0), O2 = relu(W1 · O1 + b1), O3 = sigmoid(W2 · O2 + b2)\n");
  fmt::print("   C = mean binary cross-entropy over a minibatch of {}; SGD, lr {:g}, {} epochs,\n",
             mo.batch, mo.lr, mo.epochs);
  fmt::print(
      "   the points reshuffled every epoch by the RandomState({}) that drew the weights\n\n",
      seed);
  RandomState rng(seed);
  Mlp net(mo.hidden, rng);
  const std::size_t n = mo.n;
  // The boundary at a few moments: before training, early, midway, at the end.
  std::vector<std::size_t> moments = {0, std::max<std::size_t>(1, mo.epochs / 30),
                                      std::max<std::size_t>(1, mo.epochs / 6), mo.epochs};
  moments.erase(std::unique(moments.begin(), moments.end()), moments.end());
  fmt::print("{:>6} {:>11} {:>10} {:>10} {:>9}\n", "epoch", "train loss", "train acc", "test loss",
             "test acc");
  Tape tape;
  std::size_t steps = 0;
  for (std::size_t epoch = 0;; ++epoch) {
    const Score tr = score(net, train), te = score(net, test);
    h.epochs.push_back(static_cast<double>(epoch));
    h.train_loss.push_back(tr.loss);
    h.test_loss.push_back(te.loss);
    if (reported(epoch, mo.epochs)) {
      fmt::print("{:>6} {:>11.4f} {:>10.4f} {:>10.4f} {:>9.4f}\n", epoch, tr.loss, tr.accuracy,
                 te.loss, te.accuracy);
    }
    if (maps_wanted && std::find(moments.begin(), moments.end(), epoch) != moments.end()) {
      h.maps.push_back(
          plane_map(net, fmt::format("epoch {}: train accuracy {:.2f}", epoch, tr.accuracy)));
    }
    if (epoch == mo.epochs) break;
    const std::vector<std::size_t> order = rng.permutation(n);
    // Whole minibatches only: a last, smaller one is left out (PyTorch's drop_last=True).
    for (std::size_t start = 0; start + mo.batch <= n; start += mo.batch) {
      Tensor X = Tensor::zeros(2, mo.batch), Y = Tensor::zeros(1, mo.batch);
      for (std::size_t k = 0; k < mo.batch; ++k) {
        X(0, k) = train.X(0, order[start + k]);
        X(1, k) = train.X(1, order[start + k]);
        Y[k] = train.y[order[start + k]];
      }
      tape.clear();
      const Var C = record_loss(tape, net, X, Y).C;
      require_finite_cost(C.value().item(), ++steps, mo.lr);  // R47
      C.backward();
      sgd_step(tape.parameters(), mo.lr);
    }
  }
  fmt::print("\n");
  return h;
}

// 13_boundary.png and 13_loss.png, committed together. Whether gnuplot drew them depends on the
// machine: what came of them goes to stderr, so stdout stays golden.
void draw(OutputSet& outputs, const MoonsHistory& h, const MoonsOptions& mo) {
  std::vector<std::string> done;
  done.push_back(cli::final_message(
      outputs, "13_boundary.png",
      cli::plot_decision_maps(outputs.path("13_boundary.png"),
                              fmt::format("2-{0}-{0}-1 on the moons: the network's output over "
                                          "the plane (white: 0.5, the boundary)",
                                          mo.hidden),
                              h.maps, h.train.X, h.train.y)
          .message));
  done.push_back(cli::final_message(
      outputs, "13_loss.png",
      cli::plot_lines(outputs.path("13_loss.png"), "mean binary cross-entropy per epoch", "epoch",
                      "loss", h.epochs,
                      {{"train (the points it learns from)", h.train_loss},
                       {"test (make_moons with the next seed)", h.test_loss}})
          .message));
  outputs.commit();
  std::fflush(stdout);
  for (const std::string& line : done) fmt::print(stderr, "{}\n", line);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("networks of your own from the ops: XOR by hand, then two moons with Linear layers",
               "13_your_network");
  Settings st;
  add_options(app, st);
  return cli::run(app, argc, argv, [&] {
    if (st.moons.batch > st.moons.n) {
      throw std::invalid_argument(fmt::format("--batch {} is more than the {} points of --moons",
                                              st.moons.batch, st.moons.n));
    }
    // Sizes the machine cannot hold are refused before anything is allocated (R38).
    cli::check_memory(moons_bytes(st.moons, !st.out.no_plots),
                      fmt::format("--moons {} --hidden {} --batch {}", st.moons.n, st.moons.hidden,
                                  st.moons.batch));
    // The pictures are this program's output: their folder must be writable first (R26).
    OutputSet outputs =
        cli::open_output_set(st.out.dir, "--out", {"13_boundary.png", "13_loss.png"});
    cli::apply_print_options(st.common);
    cli::print_header(app);
    run_xor(st.common.seed, st.xor_lr, st.xor_steps);
    const MoonsHistory h = run_moons(st.moons, st.common.seed, !st.out.no_plots);
    if (!st.out.no_plots) draw(outputs, h, st.moons);
    return 0;
  });
}
