// 00_chain_rule: backpropagation on scalars, before any matrix. The chain rule on f = (x + y) · z
// by hand and on a tape; CS231n's gate patterns (add distributes, multiply swaps, max routes);
// why a weight's gradient delta · O^T has the weight's shape; forward mode against reverse mode.
// Run: build/tutorials/00_chain_rule [--precision N] [--trace] [--step] [--dot FILE] [--z Z]
//      [--w W] [--n N]   (--trace, --step and --dot show section 1's tape)
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/dot.hpp>
#include <stepgrad/cli/header.hpp>
#include <stepgrad/cli/options.hpp>
#include <stepgrad/cli/program.hpp>
#include <stepgrad/cli/tracer.hpp>

using namespace stepgrad;

namespace {

std::string num(double v, int p) { return fmt::format("{:.{}f}", v, p); }

/// "1 op", "3 ops".
std::string count(std::size_t n, std::string_view what) {
  return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s");
}

/// Within 1e-12 of each other, relative to the larger (the same numbers up to rounding).
bool same(double a, double b) {
  return std::abs(a - b) <= 1e-12 * std::max({1.0, std::abs(a), std::abs(b)});
}

// ---- 1. The chain rule on f = (x + y) · z ----
void chain_rule(const cli::CommonOptions& opts, double z) {
  const int p = opts.precision;
  const double x = -2.0, y = 5.0;
  fmt::print("1. The chain rule: f = (x + y) · z at x = {}, y = {}, z = {}\n", x, y, z);
  const double q = x + y, f = q * z;
  fmt::print("By hand, forward:  q = x + y = {}, f = q · z = {}\n", num(q, p), num(f, p));
  // Backward from df/df = 1: each node's gradient is its output's gradient times the local
  // derivative of the op between them (the chain rule).
  const double df_dq = z, df_dz = q, df_dx = df_dq * 1.0, df_dy = df_dq * 1.0;
  fmt::print("By hand, backward from df/df = 1:\n");
  fmt::print("  f = q · z:  df/dq = z = {}, df/dz = q = {}\n", num(df_dq, p), num(df_dz, p));
  fmt::print("  q = x + y:  df/dx = df/dq · dq/dx = {} · 1 = {}\n", num(df_dq, p), num(df_dx, p));
  fmt::print("              df/dy = df/dq · dq/dy = {} · 1 = {}\n", num(df_dq, p), num(df_dy, p));

  Tape tape;
  cli::attach_tracer(tape, opts);
  const Var X = tape.variable(Tensor::scalar(x), "x");
  const Var Y = tape.variable(Tensor::scalar(y), "y");
  const Var Z = tape.variable(Tensor::scalar(z), "z");
  const Var Q = (X + Y).named("q");
  const Var F = (Q * Z).named("f");
  tape.backward(F);
  fmt::print("On a tape, after backward(f): {} nodes, each a value and a gradient\n", tape.size());
  for (std::size_t i = 0; i < tape.size(); ++i) {
    fmt::print("  {}  {:<14} value {:>{}}  grad {:>{}}\n", i, tape.label(i),
               num(tape.node(i).value()[0], p), p + 4, num(tape.node(i).grad()[0], p), p + 4);
  }
  const bool agree = same(Q.value()[0], q) && same(F.value()[0], f) && same(X.grad()[0], df_dx) &&
                     same(Y.grad()[0], df_dy) && same(Z.grad()[0], df_dz) &&
                     same(Q.grad()[0], df_dq);
  fmt::print("  {}\n\n",
             agree ? "the same numbers as by hand" : "NOT the numbers computed by hand");
  if (!opts.dot.empty()) cli::write_dot(tape, opts.dot);
}

// ---- 2. CS231n's gate patterns, on f = 2 · (x · y + max(z, w)) ----
void gate_patterns(const cli::CommonOptions& opts, double w) {
  const int p = opts.precision;
  const double x = 3.0, y = -4.0, z = 2.0;
  fmt::print("2. Gate patterns: f = 2 · (x · y + max(z, w)) at x = {}, y = {}, z = {}, w = {}\n", x,
             y, z, w);
  fmt::print("   (the engine has no max op: m = max(z, w) is recorded as w + relu(z - w))\n");
  Tape tape;
  const Var X = tape.variable(Tensor::scalar(x), "x");
  const Var Y = tape.variable(Tensor::scalar(y), "y");
  const Var Z = tape.variable(Tensor::scalar(z), "z");
  const Var W = tape.variable(Tensor::scalar(w), "w");
  const Var P = (X * Y).named("p");
  const Var D = (Z - W).named("d");
  const Var R = relu(D).named("r");
  const Var M = (W + R).named("m");
  const Var S = (P + M).named("s");
  const Var F = (2.0 * S).named("f");
  tape.backward(F);
  fmt::print("Backward from f = {}: each op's rule with its numbers, last op first\n",
             num(F.value()[0], p));
  for (std::size_t i = tape.size(); i-- > 0;) {
    if (tape.node(i).is_leaf()) continue;
    fmt::print("  {}\n{}\n", tape.label(i), cli::indented(explain_backward(tape, i), "      "));
  }
  const auto g = [](const Var& v) { return v.grad()[0]; };
  const auto holds = [](bool ok) { return ok ? "" : "  (NOT what the pattern says)"; };
  const double gs = g(S), gp = g(P), gm = g(M);
  fmt::print("The patterns, read off the tape's gradients:\n");
  fmt::print(
      "  add distributes: s = p + m passes grad s = {} to both: grad p = {}, grad m = {}{}\n",
      num(gs, p), num(gp, p), num(gm, p), holds(same(gp, gs) && same(gm, gs)));
  fmt::print("  multiply swaps:  p = x · y: grad x = grad p · y = {}, grad y = grad p · x = {}{}\n",
             num(g(X), p), num(g(Y), p), holds(same(g(X), gp * y) && same(g(Y), gp * x)));
  // relu'(0) = 0, so a tie sends the whole gradient to w.
  const bool z_wins = z > w;
  const Var& larger = z_wins ? Z : W;
  const Var& smaller = z_wins ? W : Z;
  fmt::print(
      "  max routes:      all of grad m = {} to the larger input, {}: grad z = {}, grad w = {}{}\n",
      num(gm, p), z_wins ? "z" : (z == w ? "w (a tie: relu'(0) = 0)" : "w"), num(g(Z), p),
      num(g(W), p), holds(same(g(larger), gm) && g(smaller) == 0.0));
  fmt::print("\n");
}

// ---- 3. Shapes: a weight's gradient delta · O^T ----
void shapes() {
  fmt::print("3. Shapes: the gradient of a weight matrix has the matrix's shape\n");
  fmt::print("A layer of 2 neurons on 3 inputs: Z1 = W0 · O0, O1 = sigmoid(Z1), C = sum(O1)\n");
  Parameter W0("W0", Tensor::matrix({{0.4, -0.2, 0.7}, {-0.5, 0.3, 0.1}}));  // (2, 3): out x in
  const Tensor O0 = Tensor::vector({0.5, 0.1, 0.9});                         // (3,)
  Tape tape;
  const Var o0 = tape.input(O0, "O0");
  const Var Z1 = matmul(tape.param(W0), o0).named("Z1");
  const Var O1 = sigmoid(Z1).named("O1");
  const Var C = sum(O1).named("C");
  tape.backward(C);
  // By hand: delta1 = dC/dZ1 = O1 (1 - O1) (eq. 5; dC/dO1 = 1), and dC/dW0 = delta1 · O0^T.
  Tensor delta1(Z1.shape());  // (2,)
  for (std::size_t i = 0; i < delta1.size(); ++i) delta1[i] = O1.value()[i] * (1.0 - O1.value()[i]);
  Tensor by_hand(W0.value.shape());  // (2, 3)
  for (std::size_t i = 0; i < by_hand.rows(); ++i)
    for (std::size_t j = 0; j < by_hand.cols(); ++j)
      by_hand[i * by_hand.cols() + j] = delta1[i] * O0[j];
  fmt::print("  W0 {}  O0 {}  Z1 {}  C {}\n", W0.value.shape(), O0.shape(), Z1.shape(), C.shape());
  fmt::print("{}\n", show("delta1 = dC/dZ1 = O1 (1 - O1), by hand", delta1));
  fmt::print("  C depends on W0[i][j] only through Z1[i] = ... + W0[i][j] O0[j] + ...,\n");
  fmt::print("  so dC/dW0[i][j] = delta1[i] · O0[j]: one number per weight, W0's shape:\n");
  fmt::print("  delta1 · O0^T = {} · {} = {}\n", Shape::matrix(delta1.size(), 1),
             Shape::matrix(1, O0.size()), by_hand.shape());
  fmt::print("{}\n", show("grad_W0 (the tape)", W0.grad()));
  fmt::print("{}\n", show("Delta0 = delta1 · O0^T (by hand)", by_hand));
  bool agree = W0.grad().shape() == by_hand.shape();
  for (std::size_t k = 0; agree && k < by_hand.size(); ++k) agree = same(W0.grad()[k], by_hand[k]);
  fmt::print("  {}\n", agree ? "the same numbers" : "NOT the same numbers");

  // The article's network at its sizes (weights 0: only the shapes matter here).
  const std::size_t sizes[] = {784, 128, 64, 10};
  std::vector<Parameter> W;
  for (std::size_t l = 0; l < 3; ++l)
    W.emplace_back(fmt::format("W{}", l), Tensor::zeros(sizes[l + 1], sizes[l]));
  Tape net;
  std::vector<Var> O{net.input(Tensor::zeros(sizes[0]), "O0")}, Zs;
  for (std::size_t l = 0; l < 3; ++l) {
    Zs.push_back(matmul(net.param(W[l]), O.back()).named(fmt::format("Z{}", l + 1)));
    if (l < 2) O.push_back(sigmoid(Zs.back()).named(fmt::format("O{}", l + 1)));
  }
  net.backward(sum(Zs.back()).named("C"));  // any scalar cost: the shapes are the same
  fmt::print("The article's network on a tape, grad W_l = grad Z_(l+1) · O_l^T at every layer:\n");
  for (std::size_t l = 0; l < 3; ++l) {
    const Shape d = Zs[l].grad().shape(), o = O[l].shape();
    fmt::print("  grad W{} {:<11} = grad Z{} {:<7} · O{}^T {}\n", l, to_string(W[l].grad().shape()),
               l + 1, to_string(d), l, Shape::matrix(1, o.size()));
  }
  fmt::print("\n");
}

// ---- 4. Forward mode against reverse mode on f = x1 · x2 · ... · xn ----

/// A dual number: a value and its derivative along one chosen input (forward mode).
struct Dual {
  double v;
  double d;
};

/// The inputs of f for n: 0.5, 2, -1, 3, then again.
std::vector<double> product_inputs(std::size_t n) {
  const double cycle[] = {0.5, 2.0, -1.0, 3.0};
  std::vector<double> xs(n);
  for (std::size_t i = 0; i < n; ++i) xs[i] = cycle[i % 4];
  return xs;
}

struct ModeRun {
  std::vector<double> grad;  // df/dx_i
  std::size_t sweeps = 0;    // passes over the computation
  std::size_t ops = 0;       // op evaluations: forward ones, plus backward rules applied
};

/// Forward mode: sweep k seeds dx_k = 1 (the others 0) and carries (value, derivative) through
/// every multiplication; one sweep gives one partial derivative. `each` sees each sweep.
template <class Each>
ModeRun forward_mode(const std::vector<double>& xs, Each each) {
  ModeRun run;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const std::size_t ops_before = run.ops;
    Dual f{xs[0], k == 0 ? 1.0 : 0.0};
    for (std::size_t i = 1; i < xs.size(); ++i) {
      const Dual xi{xs[i], i == k ? 1.0 : 0.0};
      f = {f.v * xi.v, f.d * xi.v + f.v * xi.d};  // (uv)' = u'v + uv'
      ++run.ops;
    }
    ++run.sweeps;
    run.grad.push_back(f.d);
    each(k, f, run.ops - ops_before);
  }
  return run;
}

/// Reverse mode: one forward sweep records the multiplications on a tape, one backward sweep
/// applies each one's rule once and leaves every df/dx_i.
ModeRun reverse_mode(const std::vector<double>& xs, std::size_t* recorded = nullptr) {
  ModeRun run;
  Tape tape;
  std::size_t rules = 0;
  tape.set_observer([&rules](Tape& t, std::size_t i, Sweep s) {
    if (s == Sweep::Backward && !t.node(i).is_leaf()) ++rules;
  });
  std::vector<Var> x;
  Var f;  // x1 · x2 · ... so far
  for (std::size_t i = 0; i < xs.size(); ++i) {
    x.push_back(tape.variable(Tensor::scalar(xs[i]), fmt::format("x{}", i + 1)));
    f = i == 0 ? x.back() : f * x.back();
  }
  const std::size_t forward_ops = tape.size() - xs.size();
  tape.backward(f);
  run.sweeps = 2;
  run.ops = forward_ops + rules;
  for (const Var& v : x) run.grad.push_back(v.grad()[0]);
  if (recorded != nullptr) *recorded = forward_ops;
  return run;
}

bool same_gradient(const ModeRun& a, const ModeRun& b) {
  bool agree = a.grad.size() == b.grad.size();
  for (std::size_t i = 0; agree && i < a.grad.size(); ++i) agree = same(a.grad[i], b.grad[i]);
  return agree;
}

void modes(const cli::CommonOptions& opts, std::size_t n) {
  const int p = opts.precision;
  const std::vector<double> xs = product_inputs(n);
  std::string names, values;
  for (std::size_t i = 0; i < n; ++i) {
    names += fmt::format("{}x{}", i > 0 ? " · " : "", i + 1);
    values += fmt::format("{}{}", i > 0 ? " " : "", num(xs[i], p));
  }
  fmt::print("4. Forward mode versus reverse mode: f = {} ({} inputs, 1 output)\n", names, n);
  fmt::print("x = [{}]\n", values);
  fmt::print(
      "Forward mode (dual numbers): sweep k carries each value with its derivative by x_k\n");
  const ModeRun fwd = forward_mode(xs, [&](std::size_t k, Dual f, std::size_t ops) {
    fmt::print("  sweep {}: f = {}, df/dx{} = {}  ({})\n", k + 1, num(f.v, p), k + 1, num(f.d, p),
               count(ops, "op"));
  });
  fmt::print("  {}, {}: one sweep per input\n", count(fwd.sweeps, "sweep"), count(fwd.ops, "op"));
  fmt::print("Reverse mode (the tape): one forward sweep records, one backward sweep gives all\n");
  std::size_t recorded = 0;
  const ModeRun rev = reverse_mode(xs, &recorded);
  std::string grads;
  for (std::size_t i = 0; i < n; ++i)
    grads += fmt::format("{}{}", i > 0 ? " " : "", num(rev.grad[i], p));
  fmt::print("  grad x = [{}]\n", grads);
  fmt::print("  {}, {} ({} recorded, {} applied)\n", count(rev.sweeps, "sweep"),
             count(rev.ops, "op"), recorded, count(rev.ops - recorded, "rule"));
  fmt::print("  {}\n", same_gradient(fwd, rev) ? "the same gradient as forward mode"
                                               : "NOT the gradient of forward mode");
  fmt::print("Counted for more inputs (the same gradient both ways, to 1e-12, in every row):\n");
  fmt::print("  {:>6}  {:>14}  {:>11}  {:>14}  {:>11}\n", "n", "forward sweeps", "forward ops",
             "reverse sweeps", "reverse ops");
  for (const std::size_t m : {std::size_t{10}, std::size_t{100}, std::size_t{1000}}) {
    const std::vector<double> many = product_inputs(m);
    const ModeRun a = forward_mode(many, [](std::size_t, Dual, std::size_t) {});
    const ModeRun b = reverse_mode(many);
    if (!same_gradient(a, b)) throw std::runtime_error("forward and reverse mode disagree");
    fmt::print("  {:>6}  {:>14}  {:>11}  {:>14}  {:>11}\n", m, a.sweeps, a.ops, b.sweeps, b.ops);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("the chain rule on scalars: gates, shapes, forward and reverse mode",
               "00_chain_rule");
  cli::CommonOptions opts;
  cli::add_common_options(app, opts, cli::kTrace | cli::kNoFull);
  double z = -4.0, w = -1.0;
  cli::add_real(app, "--z", z, "z in section 1's f = (x + y) · z, x = -2, y = 5", -100, 100);
  cli::add_real(app, "--w", w, "w in section 2's f = 2 · (x · y + max(z, w)), z = 2", -100, 100);
  std::size_t inputs = 4;
  cli::add_whole(app, "--n", inputs,
                 "n, the number of inputs of section 4's f = x1 · x2 · ... · xn", 2, 12);
  return cli::run(app, argc, argv, [&] {
    cli::apply_print_options(opts);
    cli::print_header(app);
    chain_rule(opts, z);
    gate_patterns(opts, w);
    shapes();
    modes(opts, inputs);
    return 0;
  });
}
