// The explorer's engine: stepgrad's own autodiff/ and network code, compiled to WebAssembly, seen
// from JavaScript through embind. Nothing here computes a number of its own: every value comes
// from record_forward / backward (the tape), backward_pass (the hand-derived deltas),
// numerical_gradient (finite differences) or TrainingStep (nn/step.hpp), as 10_train's; the
// small graphs (SmallGraph) are recorded from the same ops as 01_neuron and 13_your_network; the
// test set is scored by evaluate (nn/train.hpp), the data read by unpack_subset (io/subset.hpp).
// Besides printing, the only arithmetic here is compare()'s relative error of two tensors.
// "Your turn" grades the learner's typed expressions with the labs' grader (labs/your_turn.hpp).
// web/stepgrad.js wraps this class in the documented API (docs/explorer.md).
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/functions.hpp>
#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/io/subset.hpp>
#include <stepgrad/labs/expr.hpp>
#include <stepgrad/labs/your_turn.hpp>
#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/network.hpp>
#include <stepgrad/nn/step.hpp>
#include <stepgrad/nn/train.hpp>

namespace stepgrad {
namespace {

using emscripten::val;

// A copy of a tensor's elements as a fresh Float64Array (row-major, as the tensor stores them).
val to_js(const Tensor& t) {
  return val(emscripten::typed_memory_view(t.size(), t.data())).call<val>("slice");
}

std::vector<std::uint8_t> bytes_from_js(const val& array) {
  return emscripten::convertJSArrayToNumberVector<std::uint8_t>(array);
}

// The one bounds check: i names an element of something with `size` of them.
void check_index(std::size_t i, std::size_t size, std::string_view what) {
  if (i >= size) throw std::out_of_range(std::string(what));
}

val shape_to_js(const Shape& s) {
  val out = val::array();
  if (s.rank >= 1) out.call<void>("push", s.rows);
  if (s.rank == 2) out.call<void>("push", s.cols);
  return out;
}

// Node i's {index, name, op, label, shape, inputs}: what Explorer::node and SmallGraph::run share.
val node_to_js(const Tape& tape, std::size_t i) {
  const Node& n = tape.node(i);
  val out = val::object();
  out.set("index", i);
  out.set("name", n.name);
  out.set("op", std::string(n.op->name));
  out.set("label", tape.label(i));
  out.set("shape", shape_to_js(n.value().shape()));
  out.set("shapeText", to_string(n.value().shape()));  // "(128, 784)", as numpy writes it
  val inputs = val::array();
  if (n.a != Node::kNone) inputs.call<void>("push", n.a);
  if (n.b != Node::kNone) inputs.call<void>("push", n.b);
  out.set("inputs", inputs);
  return out;
}

class Explorer {
 public:
  explicit Explorer(std::uint32_t seed) : net_(options(seed)) {}

  // ---- the network and its data ----
  void reset(std::uint32_t seed) {
    net_ = Network(options(seed));
    explained_ = false;
    ++weights_version_;
  }
  std::uint32_t seed() const { return net_.options().seed; }
  void load_data(const val& bytes) { data_ = unpack_subset(bytes_from_js(bytes)); }
  std::size_t train_size() const { return data_.train.size(); }
  std::size_t test_size() const { return data_.test.size(); }
  /// {pixels: Uint8Array(784), label, index} of training (set 0) or test (set 1) sample i.
  val sample(int set, std::size_t i) const {
    const PackedSet& s = set == 0 ? data_.train : data_.test;
    check_index(i, s.size(), "sample: no such sample");
    const std::span<const std::uint8_t> pixels = s.samples.pixels(i);
    val out = val::object();
    out.set("pixels",
            val(emscripten::typed_memory_view(pixels.size(), pixels.data())).call<val>("slice"));
    out.set("label", s.samples.label(i));
    out.set("index", s.mnist_index[i]);
    return out;
  }

  // ---- one sample, three ways ----
  /// Records eqs. (1)-(4) on the tape for 784 pixel bytes and a label, runs backward(C), and
  /// evaluates the hand-derived deltas of `recipe` ("fixed" or "article") at the same weights.
  void explain(const val& pixels, std::size_t label, const std::string& recipe) {
    const std::vector<std::uint8_t> p = bytes_from_js(pixels);
    if (p.size() != kImagePixels)
      throw std::invalid_argument("explain: an image is 784 pixel bytes");
    if (label >= kNumClasses) throw std::invalid_argument("explain: the label is 0-9");
    recipe_ = parse_enum<Recipe>(recipe, "recipe");
    image_input(p, x_);
    one_hot(label, y_);
    Network& model = net();
    forward_ = tape_gradients(tape_, model, x_, y_);  // the tape: forward, then backward(C)
    activations_ = forward_pass(model, x_);           // eqs. (1)-(4) by hand
    deltas_ = backward_pass(model, activations_, y_, recipe_);  // eqs. (8)-(11)
    explained_ = true;
    ++explain_id_;
  }
  /// Changes with every explain(): what an Explanation in JavaScript checks before it reads.
  std::uint32_t explain_id() const { return explain_id_; }
  /// Changes whenever the weights do (reset, train): the page keeps W0-W2's values until then.
  std::uint32_t weights_version() const { return weights_version_; }
  std::size_t node_count() const { return explained_ ? tape_.size() : 0; }
  /// {index, name, op, label, shape, value, grad (null when no gradient reached it), inputs};
  /// without `data`, value and grad are left out (and hasGrad says whether there is one).
  val node(std::size_t i, bool data) {
    check_node(i);
    Node& n = tape_.node(i);
    val out = node_to_js(tape_, i);
    out.set("hasGrad", !n.gradient().empty());
    val rules = val::array();  // the op's backward rule per input, in words (Tape::rule)
    for (int k = 0; k < 2; ++k) rules.call<void>("push", tape_.rule(i, k));
    out.set("rules", rules);
    if (data) {
      out.set("value", to_js(n.value()));
      out.set("grad", n.gradient().empty() ? val::null() : to_js(n.grad()));
    }
    return out;
  }
  /// Node i's backward rules with their numbers, one line per input, as --trace prints them
  /// ("grad Z2 += grad O2 ⊙ O2 (1 - O2) = ... = ..."; explain_backward, autodiff/print.hpp).
  std::string backward_text(std::size_t i, int precision) {
    check_node(i);
    PrintOptions opts;
    opts.precision = precision;
    return explain_backward(tape_, i, opts);
  }
  /// Node i's value alone, or its gradient alone (null when none reached it): an update of the
  /// page copies only the arrays it draws.
  val node_value(std::size_t i) {
    check_node(i);
    return to_js(tape_.node(i).value());
  }
  val node_grad(std::size_t i) {
    check_node(i);
    Node& n = tape_.node(i);
    return n.gradient().empty() ? val::null() : to_js(n.grad());
  }
  /// Node i's value (grad false) or gradient (true) as a Float64Array view of the engine's memory,
  /// no copy (null for a missing gradient): valid only until the engine runs again, so the caller
  /// copies it at once into a buffer of its own (web/stepgrad.js, `reuse`).
  val node_view(std::size_t i, bool grad) {
    check_node(i);
    Node& n = tape_.node(i);
    if (grad && n.gradient().empty()) return val::null();
    const Tensor& t = grad ? n.grad() : n.value();
    return val(emscripten::typed_memory_view(t.size(), t.data()));
  }
  /// {maxRel, tape, hand}: the largest |a - b| / max(|a|, |b|) over every element of key_a and
  /// key_b (show_text's keys, e.g. "grad W0" and "Delta0"), and both at the given flat indices:
  /// the three-way check without copying two 100,352-element tensors into JavaScript.
  val compare(const std::string& key_a, const std::string& key_b, const val& indices) {
    const Tensor& a = lookup(key_a);
    const Tensor& b = lookup(key_b);
    if (a.size() != b.size()) throw std::invalid_argument("compare: the sizes differ");
    const std::vector<std::size_t> idx =
        emscripten::convertJSArrayToNumberVector<std::size_t>(indices);
    for (const std::size_t i : idx) check_index(i, a.size(), "compare: index past the end");
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double d = std::max(std::abs(a[i]), std::abs(b[i]));
      if (d > 0.0) worst = std::max(worst, std::abs(a[i] - b[i]) / d);
    }
    val ta = val::global("Float64Array").new_(idx.size());
    val tb = val::global("Float64Array").new_(idx.size());
    for (std::size_t k = 0; k < idx.size(); ++k) {
      ta.set(k, a[idx[k]]);
      tb.set(k, b[idx[k]]);
    }
    val out = val::object();
    out.set("maxRel", worst);
    out.set("tape", ta);
    out.set("hand", tb);
    return out;
  }
  /// One hand-derived value of the last explain(): delta3, delta2, delta1, Delta2, Delta1, Delta0.
  val delta(const std::string& name) {
    if (name.rfind("delta", 0) != 0 && name.rfind("Delta", 0) != 0)
      throw std::invalid_argument("delta: '" + name + "' is not delta1-3 or Delta0-2");
    return to_js(lookup(name));
  }
  /// dC/d(target)[i] for each flat index i by the five-point stencil (autodiff/gradcheck.hpp),
  /// C = -Y · log O3 of the last explain()'s sample; target is W0, W1, W2, Z1, Z2 or Z3.
  val finite_differences(const std::string& target, const val& indices) {
    check_explained();
    constexpr const char* kPastTheEnd = "finite_differences: index past the end";
    const std::vector<std::size_t> idx =
        emscripten::convertJSArrayToNumberVector<std::size_t>(indices);
    GradCheckOptions defaults;
    Tensor result;
    if (target == "W0" || target == "W1" || target == "W2") {
      Parameter& w = net().weight(static_cast<std::size_t>(target[1] - '0'));
      for (const std::size_t i : idx) check_index(i, w.value.size(), kPastTheEnd);
      const LossFn loss = [&] { return cross_entropy(forward_pass(net_, x_).Z3, y_); };
      result = numerical_gradient(loss, w.value, defaults.h, idx);
    } else if (target == "Z1" || target == "Z2" || target == "Z3") {
      // C as a function of Z_l alone: the rest of eqs. (2)-(4) from Z_l on.
      const std::size_t l = static_cast<std::size_t>(target[1] - '0');
      Tensor z = l == 1 ? activations_.Z1 : l == 2 ? activations_.Z2 : activations_.Z3;
      for (const std::size_t i : idx) check_index(i, z.size(), kPastTheEnd);
      const LossFn loss = [&, l] { return cross_entropy(forward_from(net(), l, z), y_); };
      result = numerical_gradient(loss, z, defaults.h, idx);
    } else {
      throw std::invalid_argument("finite_differences: the target is W0-W2 or Z1-Z3");
    }
    val out = val::global("Float64Array").new_(idx.size());
    for (std::size_t k = 0; k < idx.size(); ++k) out.set(k, result[idx[k]]);
    return out;
  }
  /// The engine's own printing of a tensor of the last explain(): "Z1 (128,)\n[...]" as the
  /// tutorials print it. key: a node's name ("Z1"), "grad " + a node's name, or a delta's name.
  std::string show_text(const std::string& key, int precision) {
    PrintOptions opts;
    opts.precision = precision;
    return show(key, lookup(key), opts);
  }
  /// "(128,) min -3.463 max 2.537 mean -0.03934 norm 12.15", as 08_tape prints it.
  std::string summary_text(const std::string& key) { return summary(lookup(key)); }

  // ---- training: the per-sample SGD of 10_train, the same TrainingStep (nn/step.hpp) ----
  /// count SGD steps on training samples first, first + 1, ... (wrapping around the subset).
  /// recipe fixed runs the tape engine, article the fused deltas, as 10_train does.
  /// Returns {cost: sum of the article's cost, correct: how many O3 had the label on top}.
  val train(std::size_t first, std::size_t count, const std::string& recipe, double lr) {
    const Subset& samples = data_.train.samples;
    if (samples.size() == 0) throw std::runtime_error("train: no data loaded");
    if (!(lr > 0.0)) throw std::invalid_argument("train: lr must be a positive number");
    const Recipe r = parse_enum<Recipe>(recipe, "recipe");
    const Engine engine = effective_engine(r, Engine::tape);
    explained_ = false;  // the weights change: the explained tape is stale
    ++weights_version_;
    net_.zero_grad();  // explain() left the tape's gradients in the Parameters
    double cost = 0.0;
    std::size_t correct = 0;
    // Note [W0 column by column], kept between calls: Note [The explorer's W0 stays column-major]
    net_.W0.value.set_layout(Layout::column_major);
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t i = (first + k) % samples.size();
      samples.input(i, tx_);
      samples.one_hot(i, ty_);
      const StepResult s = step_.step(net_, tx_, ty_, engine, r, lr);
      cost += s.cost_sum;
      correct += s.correct;
    }
    val out = val::object();
    out.set("cost", cost);
    out.set("correct", correct);
    return out;
  }
  /// Accuracy and mean article cost on the test subset, as 10_train scores its test set.
  val evaluate() {
    // W0 as train() left it (Note [The explorer's W0 stays column-major]): evaluate's matmul
    // takes either layout, with the same bits (Note [Summation order]), and column-major W0 · X
    // skips each image's black pixels a term at a time: 1,000 test images in 16 ms, not 24-29
    // (Node, 2026-12-07).
    const Evaluation e = stepgrad::evaluate(net_, data_.test.samples);
    val out = val::object();
    out.set("accuracy", e.accuracy);
    out.set("cost", e.cost);
    return out;
  }
  // ---- "Your turn": the learner types each backward step, the labs' grader grades it ----
  /// Grades `text` as step `step` ("delta3" ... "Delta0", "W2" ... "W0": turnSteps()) of the last
  /// explain()'s sample at the current weights: {graded, passed, error, column (1-based, 0 for
  /// none), diagnosis, relTape, relFd, fdElements, firstWrong ("(3,)" or ""), yours, tapes,
  /// report (the lab's lines for it)}, the diagnosis and the report in `lang`, "en" or "zh".
  val grade(const std::string& step, const std::string& text, const std::string& lang) {
    if (lang != "en" && lang != "zh")
      throw std::invalid_argument("grade: the language is 'en' or 'zh', not '" + lang + "'");
    const labs::Lang in = lang == "zh" ? labs::Lang::zh : labs::Lang::en;
    const labs::TurnGrade g = labs::grade_turn(article_checks(), turn_index(step), text, in);
    const labs::Result& r = g.result;
    val out = val::object();
    out.set("graded", g.graded);
    out.set("passed", g.graded && r.passed);
    out.set("error", g.error);
    out.set("column", g.column);
    out.set("diagnosis", r.diagnosis);
    out.set("relTape", r.rel_tape);
    out.set("relFd", r.rel_fd);
    out.set("fdElements", r.fd_elements);
    out.set("firstWrong", r.first_wrong ? format_index(r.shape, *r.first_wrong) : std::string());
    out.set("yours", r.yours);
    out.set("tapes", r.tapes);
    out.set("report", g.graded ? labs::format_result(r, in) : std::string());
    return out;
  }
  /// Step `step`'s hints, from its answer: {names: the tensors it involves, shapes: theirs
  /// ("(10, 64)"), shape: the step's own, formula: the check's formula with shapes, answer}.
  val turn_hint(const std::string& step) {
    const std::size_t i = turn_index(step);
    const labs::ArticleChecks& a = article_checks();
    const labs::TurnStep& s = labs::turn_steps()[i];
    const std::map<std::string, Tensor> env = labs::turn_names(a, i);
    val names = val::array(), shapes = val::array();
    for (const std::string& n : labs::Expr::parse(s.answer).names()) {
      names.call<void>("push", n);
      shapes.call<void>("push", to_string(env.at(n).shape()));
    }
    const labs::Check& c = a.check(s.check);
    val out = val::object();
    out.set("names", names);
    out.set("shapes", shapes);
    out.set("shape", to_string(c.tape.shape()));
    out.set("equation", c.equation);
    out.set("formula", c.formula);
    out.set("answer", s.answer);
    return out;
  }

  /// W0, W1 or W2 (l = 0, 1, 2) as a Float64Array, row-major (out x in).
  val weight(std::size_t l) {
    check_index(l, kLayerSizes.size() - 1, "weight: l is 0, 1 or 2");
    return to_js(net().weight(l).value);
  }
  /// The same numbers copied into `out`, a Float64Array of W_l's size, allocating nothing: the
  /// training worker fills the buffers the page gave back (web/worker.js).
  void weight_into(std::size_t l, const val& out) {
    const Tensor& w = weight_tensor(l, out, "weightInto");
    if (w.layout() == Layout::row_major) {
      out.call<void>("set", val(emscripten::typed_memory_view(w.size(), w.data())));
      return;
    }
    // W0 column-major between train() calls: written out row-major, W0 left as it is.
    row_major_.resize(w.size());  // once
    w.copy_row_major(row_major_);
    out.call<void>("set", val(emscripten::typed_memory_view(w.size(), row_major_.data())));
  }
  /// Overwrites W_l with `values` (a Float64Array of its size), bit for bit: the page's model
  /// takes the weights its training worker computed. The explained tape is stale after it.
  void set_weight(std::size_t l, const val& values) {
    Tensor& w = weight_tensor(l, values, "setWeight");
    w.set_layout(Layout::row_major);  // the values come row-major
    val(emscripten::typed_memory_view(w.size(), w.data())).call<void>("set", values);
    explained_ = false;
    ++weights_version_;
  }

 private:
  static NetworkOptions options(std::uint32_t seed) {
    NetworkOptions o;
    o.seed = seed;
    return o;
  }
  // W_l, after checking l and that `array` has as many elements as it.
  Tensor& weight_tensor(std::size_t l, const val& array, const std::string& what) {
    check_index(l, kLayerSizes.size() - 1, what + ": l is 0, 1 or 2");
    Tensor& w = net_.weight(l).value;
    const bool doubles = array["constructor"].strictlyEquals(val::global("Float64Array"));
    if (!doubles || array["length"].as<std::size_t>() != w.size())
      throw std::invalid_argument(what + ": W" + std::to_string(l) + " needs a Float64Array of " +
                                  std::to_string(w.size()) + " numbers");
    return w;
  }
  void check_explained() const {
    if (!explained_) throw std::logic_error("call explain() first");
  }
  void check_node(std::size_t i) const {
    check_explained();
    check_index(i, tape_.size(), "node: no such node");
  }
  static std::size_t turn_index(const std::string& step) {
    for (std::size_t i = 0; i < labs::turn_steps().size(); ++i)
      if (labs::turn_steps()[i].name == step) return i;
    throw std::invalid_argument("grade: no step '" + step + "' (delta3 ... Delta0, W2, W1, W0)");
  }
  // The article's checks of the last explain()'s sample at the current weights, made once per
  // explain(). lr is the article's 0.001 (eq. 12).
  const labs::ArticleChecks& article_checks() {
    check_explained();
    if (!checks_ || checks_id_ != explain_id_) {
      checks_ = std::make_unique<labs::ArticleChecks>(labs::article_checks(net(), x_, y_, 0.001));
      checks_id_ = explain_id_;
    }
    return *checks_;
  }
  const Tensor& lookup(const std::string& key) {
    check_explained();
    const Tensor* hand[] = {&deltas_.delta3, &deltas_.delta2, &deltas_.delta1,
                            &deltas_.Delta2, &deltas_.Delta1, &deltas_.Delta0};
    const char* hand_names[] = {"delta3", "delta2", "delta1", "Delta2", "Delta1", "Delta0"};
    for (std::size_t k = 0; k < 6; ++k)
      if (key == hand_names[k]) return *hand[k];
    const bool grad = key.rfind("grad ", 0) == 0;
    const std::string name = grad ? key.substr(5) : key;
    for (std::size_t i = 0; i < tape_.size(); ++i) {
      Node& n = tape_.node(i);
      if (n.name == name) return grad ? n.grad() : n.value();
    }
    throw std::invalid_argument("no tensor named '" + key + "'");
  }

  // Note [The explorer's W0 stays column-major]
  // train() stores W0 column-major (Note [W0 column by column] in nn/step.hpp) and leaves it so:
  // the training worker calls it every slice (about 13 ms), and storing W0 row-major and back in
  // each call cost about a tenth of the steps' time (Node, 2026-12-07: 500 steps per call 30-32k
  // samples/s, 5,000 per call 34k; kept column-major, 37k either way). Everything else that reads
  // the network goes through net(), which stores W0 row-major first (nothing, when it is
  // already); weight_into() writes W0's values out row-major without changing its layout, and
  // evaluate() reads it in either layout.
  Network& net() {
    net_.W0.value.set_layout(Layout::row_major);
    return net_;
  }
  Network net_;
  std::vector<double> row_major_;  // weight_into()'s W0, row-major
  TrainingStep step_;              // train()'s engine, as Trainer's (its own tape and buffers)
  Tape tape_;                      // the explained sample's tape
  TapeForward forward_;
  ForwardValues activations_;
  Deltas deltas_;
  Recipe recipe_ = Recipe::fixed;
  Tensor x_, y_, tx_, ty_;
  bool explained_ = false;
  std::uint32_t explain_id_ = 0;
  std::uint32_t weights_version_ = 0;
  PackedSubset data_;
  std::unique_ptr<labs::ArticleChecks> checks_;  // Your turn's, of explain() number checks_id_
  std::uint32_t checks_id_ = 0;
};

// ---- small graphs: 01_neuron's neuron and 13_your_network's XOR, every scalar shown ----

/// A small network on its own tape, re-recorded by run() after each edit of a leaf: the neuron of
/// 01_neuron (Z = W · O0, O = sigmoid(Z), backward from O) or the 2-2-1 XOR network of
/// 13_your_network (backward from its binary cross-entropy C), built from the same ops.
class SmallGraph {
 public:
  SmallGraph(const std::string& kind, std::uint32_t seed) : kind_(kind) {
    if (kind == "neuron") {
      inputs_.push_back({"O0", Tensor::vector({0.5, 0.1, 0.9})});
      params_.emplace_back("W", Tensor::matrix({{0.4, -0.2, 0.7}}));
    } else if (kind == "xor") {
      // as run_xor: W = RandomState(seed).randn(out, in) · sqrt(1 / in), b = 0
      inputs_.push_back({"O0", Tensor::matrix({{0, 0, 1, 1}, {0, 1, 0, 1}})});
      inputs_.push_back({"Y", Tensor::matrix({{0, 1, 1, 0}})});
      RandomState rng(seed);
      params_.emplace_back("W0", std::sqrt(1.0 / 2) * rng.randn(2, 2));
      params_.emplace_back("b0", Tensor::zeros(2));
      params_.emplace_back("W1", std::sqrt(1.0 / 2) * rng.randn(1, 2));
      params_.emplace_back("b1", Tensor::zeros(1));
    } else {
      throw std::invalid_argument("SmallGraph: the kind is 'neuron' or 'xor', not '" + kind + "'");
    }
  }
  /// Sets element i (flat, row-major) of a leaf: an input (O0, Y) or a parameter (W, W0, b0...).
  void set(const std::string& leaf, std::size_t i, double v) {
    Tensor& t = leaf_value(leaf);
    check_index(i, t.size(), "set: " + leaf + " has no element " + std::to_string(i));
    if (!std::isfinite(v)) throw std::invalid_argument("set: the value must be a finite number");
    t[i] = v;
  }
  /// Records the graph, runs backward, and returns its nodes in recording order:
  /// {index, name, op, label, shape, value, grad (null for a node the gradient does not reach),
  /// inputs, rule ("grad Z += ... = numbers = contribution" per input, Tape's rule text)}.
  val run(int precision) {
    tape_.clear();
    for (Parameter& p : params_) p.zero_grad();
    Var root;
    if (kind_ == "neuron") {
      const Var o0 = tape_.input(inputs_[0].value, "O0");
      const Var Z = matmul(tape_.param(params_[0]), o0).named("Z");
      root = sigmoid(Z).named("O");
    } else {
      const Var O0 = tape_.input(inputs_[0].value, "O0");
      const Var W0 = tape_.param(params_[0]), b0 = tape_.param(params_[1]);
      const Var Z1 = add_to_columns(matmul(W0, O0).named("W0·O0"), b0).named("Z1");
      const Var O1 = tanh(Z1).named("O1");
      const Var W1 = tape_.param(params_[2]), b1 = tape_.param(params_[3]);
      const Var Z2 = add_to_columns(matmul(W1, O1).named("W1·O1"), b1).named("Z2");
      const Var O2 = sigmoid(Z2).named("O2");
      root = binary_cross_entropy(O2, tape_.input(inputs_[1].value, "Y")).named("C");
    }
    tape_.backward(root);
    PrintOptions opts;
    opts.precision = precision;
    val out = val::array();
    for (std::size_t i = 0; i < tape_.size(); ++i) {
      Node& n = tape_.node(i);
      val node = node_to_js(tape_, i);
      node.set("value", to_js(n.value()));
      node.set("grad", n.requires_grad && !n.gradient().empty() ? to_js(n.grad()) : val::null());
      node.set("rule", explain_backward(tape_, i, opts));
      out.call<void>("push", node);
    }
    return out;
  }
  /// One SGD step on the parameters with the last run()'s gradients (eq. 12), as run_xor takes.
  void step(double lr) {
    if (!(lr > 0.0)) throw std::invalid_argument("step: lr must be a positive number");
    for (Parameter& p : params_) p.sgd_step(lr);
  }
  /// A leaf's current value as a Float64Array.
  val leaf(const std::string& name) { return to_js(leaf_value(name)); }

 private:
  struct Input {
    std::string name;
    Tensor value;
  };
  Tensor& leaf_value(const std::string& name) {
    for (Input& in : inputs_)
      if (in.name == name) return in.value;
    for (Parameter& p : params_)
      if (p.name == name) return p.value;
    throw std::invalid_argument("no leaf named '" + name + "'");
  }

  std::string kind_;
  std::vector<Input> inputs_;
  std::deque<Parameter> params_;  // a deque: the tape keeps pointers to them
  Tape tape_;
};

/// kLayerSizes (784, 128, 64, 10) as a JavaScript array.
val layer_sizes() {
  val out = val::array();
  for (const std::size_t n : kLayerSizes) out.call<void>("push", n);
  return out;
}

/// Your turn's steps in the article's order: ["delta3", "delta2", ..., "W0"].
val turn_steps() {
  val out = val::array();
  for (const labs::TurnStep& s : labs::turn_steps()) out.call<void>("push", s.name);
  return out;
}

/// One number as the CLI prints a tensor's element ("0.8100", "-0.0978"): the engine's printing.
std::string format_number(double v, int precision) {
  PrintOptions opts;
  opts.precision = precision;
  return format_values(Tensor::scalar(v), opts);
}

/// Flat index i of a tensor of shape `shape` (a JavaScript array, as node() gives it) as numpy
/// writes it, "(r, c)", "(i,)" or "()": the engine's format_index.
std::string index_text(const val& shape, double i) {
  const std::vector<double> dims = emscripten::convertJSArrayToNumberVector<double>(shape);
  const auto dim = [&](std::size_t k) { return static_cast<std::size_t>(dims.at(k)); };
  const Shape s = dims.empty()       ? Shape::scalar()
                  : dims.size() == 1 ? Shape::vector(dim(0))
                                     : Shape::matrix(dim(0), dim(1));
  return format_index(s, static_cast<std::size_t>(i));
}

/// The index of the largest of an array's numbers (the first on ties): Tensor's argmax.
std::size_t argmax_of(const val& values) {
  return argmax(Tensor::vector(emscripten::convertJSArrayToNumberVector<double>(values)));
}

// Note [The engine's errors in JavaScript]
// The engine is built with WebAssembly's own exception handling (-fwasm-exceptions, meson.build): a
// throw unwinds inside WebAssembly, where Emscripten's JavaScript-based exceptions routed each call
// that might throw through a JavaScript trampoline (invoke_*), a few in every training step (the
// page trained 0.6-3.6% slower: Node, both builds in one process, alternating, 2026-12-07). A C++
// exception that reached JavaScript would then be a WebAssembly.Exception, whose message JavaScript
// cannot read (Emscripten 3.1.6 exports no tag), so none reaches it: every function bound below
// runs through Guarded, which catches the engine's std::exception and throws a JavaScript Error
// with its message instead. The Error leaves WebAssembly without giving back the engine's stack:
// web/stepgrad.js puts it back (Note [An error keeps the engine's stack]).
[[noreturn]] void throw_js_error(const std::exception& e) {
  // (a std::string: embind reads it as UTF-8; Emscripten 3.1.6's val(const char*) as Latin-1)
  val::global("Error").new_(std::string(e.what())).throw_();
}

/// f(), with an engine error thrown as a JavaScript Error.
template <typename F>
decltype(auto) guarded(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    throw_js_error(e);
  }
}

/// A bound method or function F as embind calls it, guarded.
template <auto F>
struct Guarded;
template <typename C, typename R, typename... A, R (C::*F)(A...)>
struct Guarded<F> {
  static R call(C& self, A... a) {
    return guarded([&]() -> R { return (self.*F)(std::forward<A>(a)...); });
  }
};
template <typename C, typename R, typename... A, R (C::*F)(A...) const>
struct Guarded<F> {
  static R call(const C& self, A... a) {
    return guarded([&]() -> R { return (self.*F)(std::forward<A>(a)...); });
  }
};
template <typename R, typename... A, R (*F)(A...)>
struct Guarded<F> {
  static R call(A... a) {
    return guarded([&]() -> R { return F(std::forward<A>(a)...); });
  }
};
/// `new T(a...)`, guarded: the factory of a class's constructor.
template <typename T, typename... A>
T* make(A... a) {
  return guarded([&] { return new T(std::forward<A>(a)...); });
}

}  // namespace
}  // namespace stepgrad

// A bound function, guarded (Note [The engine's errors in JavaScript]).
#define STEPGRAD_GUARDED(f) &stepgrad::Guarded<f>::call

EMSCRIPTEN_BINDINGS(stepgrad) {
  using stepgrad::Explorer;
  emscripten::class_<Explorer>("Explorer")
      .constructor(&stepgrad::make<Explorer, std::uint32_t>, emscripten::allow_raw_pointers())
      .function("reset", STEPGRAD_GUARDED(&Explorer::reset))
      .function("seed", STEPGRAD_GUARDED(&Explorer::seed))
      .function("loadData", STEPGRAD_GUARDED(&Explorer::load_data))
      .function("trainSize", STEPGRAD_GUARDED(&Explorer::train_size))
      .function("testSize", STEPGRAD_GUARDED(&Explorer::test_size))
      .function("sample", STEPGRAD_GUARDED(&Explorer::sample))
      .function("explain", STEPGRAD_GUARDED(&Explorer::explain))
      .function("nodeCount", STEPGRAD_GUARDED(&Explorer::node_count))
      .function("node", STEPGRAD_GUARDED(&Explorer::node))
      .function("delta", STEPGRAD_GUARDED(&Explorer::delta))
      .function("nodeValue", STEPGRAD_GUARDED(&Explorer::node_value))
      .function("nodeGrad", STEPGRAD_GUARDED(&Explorer::node_grad))
      .function("compare", STEPGRAD_GUARDED(&Explorer::compare))
      .function("nodeView", STEPGRAD_GUARDED(&Explorer::node_view))
      .function("backwardText", STEPGRAD_GUARDED(&Explorer::backward_text))
      .function("explainId", STEPGRAD_GUARDED(&Explorer::explain_id))
      .function("weightsVersion", STEPGRAD_GUARDED(&Explorer::weights_version))
      .function("finiteDifferences", STEPGRAD_GUARDED(&Explorer::finite_differences))
      .function("showText", STEPGRAD_GUARDED(&Explorer::show_text))
      .function("summaryText", STEPGRAD_GUARDED(&Explorer::summary_text))
      .function("train", STEPGRAD_GUARDED(&Explorer::train))
      .function("evaluate", STEPGRAD_GUARDED(&Explorer::evaluate))
      .function("weight", STEPGRAD_GUARDED(&Explorer::weight))
      .function("weightInto", STEPGRAD_GUARDED(&Explorer::weight_into))
      .function("setWeight", STEPGRAD_GUARDED(&Explorer::set_weight))
      .function("grade", STEPGRAD_GUARDED(&Explorer::grade))
      .function("turnHint", STEPGRAD_GUARDED(&Explorer::turn_hint));
  emscripten::class_<stepgrad::SmallGraph>("SmallGraph")
      .constructor(&stepgrad::make<stepgrad::SmallGraph, std::string, std::uint32_t>,
                   emscripten::allow_raw_pointers())
      .function("set", STEPGRAD_GUARDED(&stepgrad::SmallGraph::set))
      .function("run", STEPGRAD_GUARDED(&stepgrad::SmallGraph::run))
      .function("step", STEPGRAD_GUARDED(&stepgrad::SmallGraph::step))
      .function("leaf", STEPGRAD_GUARDED(&stepgrad::SmallGraph::leaf));
  emscripten::function("formatNumber", STEPGRAD_GUARDED(&stepgrad::format_number));
  emscripten::function("argmax", STEPGRAD_GUARDED(&stepgrad::argmax_of));
  emscripten::function("indexText", STEPGRAD_GUARDED(&stepgrad::index_text));
  // The sizes the page draws with: an image's rows and columns, the network's layers.
  emscripten::constant("imageRows", stepgrad::kImageRows);
  emscripten::constant("imageCols", stepgrad::kImageCols);
  emscripten::function("layerSizes", STEPGRAD_GUARDED(&stepgrad::layer_sizes));
  emscripten::function("turnSteps", STEPGRAD_GUARDED(&stepgrad::turn_steps));
  // whether the sigmoid runs two lanes at a time (web_train asserts it)
  emscripten::function("sigmoidVectorised", STEPGRAD_GUARDED(&stepgrad::fn::sigmoid_vectorised));
}
