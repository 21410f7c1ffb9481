// The tape (a Wengert list): nodes recorded in creation order, Var handles into it,
// Parameters that outlive a tape, and backward() as one reverse sweep.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad {

// Note [Gradient accumulation]
// Gradients always accumulate: a node used twice (x * x) receives both contributions.
// A gradient buffer starts *empty*: the first contribution is written into it (=), the
// next ones are added (+=). That is exactly "zero, then add" without the pass that zeroes
// the buffer (PyTorch's grads start as None for the same reason). zero_grad() only marks a
// buffer empty; reading an empty gradient gives zeros.
//
// Note [One backward per recording]
// Accumulation is meant across samples and across uses of a node: record sample 1, backward(),
// clear() the tape, record sample 2, backward(): the Parameters hold the sum (a minibatch by
// hand). A second backward() over the *same* recording, while its leaves still hold the first
// sweep's gradients, is almost always a forgotten zero_grad(): it silently doubles every
// gradient. So the tape refuses it, as PyTorch refuses a second backward through a graph
// ("Trying to backward through the graph a second time"), with one line naming the fixes:
// zero_grad() the tape (or the Parameters) first, record again after clear(), or call
// backward_accumulating(), this tape's retain_graph=True, to add on purpose. Only the leaves the
// new sweep reaches count, and only if they hold a value other than 0: a backward() after
// zero_grad() doubles nothing (06_cost takes the gradients of two costs so), nor does a second
// loss recorded apart from the first.

// Note [Outer-product gradients]
// For one sample, matmul's weight gradient is an outer product: dW0 = delta1 ⊗ O0, the
// article's eq. (11). When that is a gradient's first contribution, matmul's backward keeps
// it as its two factors (copies of delta1 and O0) instead of writing the 128 x 784 matrix.
// sgd_step then applies W -= lr · (delta1[i] · O0[j]) in one pass over W, the same bits as
// writing dW0 and subtracting lr · dW0 (the written value is 1.0 · delta1[i] · O0[j], and
// 1.0 · x == x), and the fast kernels visit only the columns where O0 is not zero (an image is
// about 80% black). Anything else that reads the gradient (grad(), printing, the gradient
// check) or adds a second contribution first writes the matrix out. This is the tape's one
// trick against writing a weight-sized temporary per step; the gradient stays a gradient,
// readable at any time.

/// A gradient buffer that starts empty (Note [Gradient accumulation]) and may hold its first
/// contribution as an outer product (Note [Outer-product gradients]).
class Gradient {
 public:
  bool empty() const { return state_ == State::empty; }
  /// The gradient; zeros of `shape` when nothing has been accumulated.
  const Tensor& get(const Shape& shape);
  /// Where the next contribution goes: write with beta == 0, add with beta == 1
  /// (the kernels' convention, Note [beta == 0 overwrites] in kernels.hpp).
  struct Target {
    Tensor& tensor;
    double beta;
  };
  Target for_accumulation(const Shape& shape);
  /// The first contribution u ⊗ v (a (u.size(), v.size()) matrix), kept as its factors.
  /// Only for an empty gradient.
  void start_outer(const Tensor& u, const Tensor& v);
  /// True while the gradient is held as u ⊗ v.
  bool is_outer() const { return state_ == State::outer; }
  /// With is_outer(): value -= lr · (u ⊗ v). value must have the gradient's shape.
  void subtract_outer(Tensor& value, double lr) const;
  void clear() { state_ = State::empty; }

 private:
  enum class State : std::uint8_t { empty, dense, outer };
  void write_out();  // outer -> dense

  Tensor tensor_;
  State state_ = State::empty;
  Tensor u_, v_;  // with State::outer, the factors
};

/// A trainable tensor that lives across tapes: the model owns it, each tape points to it.
class Parameter {
 public:
  Parameter(std::string name_, Tensor value_) : name(std::move(name_)), value(std::move(value_)) {}

  std::string name;  ///< "W0"
  Tensor value;
  /// false freezes it (PyTorch's requires_grad_(False)): its leaves get no gradient.
  bool requires_grad = true;

  /// The accumulated gradient (zeros when none flowed in since zero_grad()).
  const Tensor& grad() { return grad_.get(value.shape()); }
  bool has_grad() const { return !grad_.empty(); }
  void zero_grad() { grad_.clear(); }
  /// One SGD step, value -= lr * grad, then zero_grad().
  void sgd_step(double lr);
  Gradient& gradient() { return grad_; }

 private:
  Gradient grad_;
};

/// zero_grad() on each: PyTorch's optimizer.zero_grad().
void zero_grad(const std::vector<Parameter*>& params);
/// sgd_step(lr) on each, eq. (12): PyTorch's optim.SGD(params, lr).step(), then zero_grad().
/// A gradient holding NaN or Inf (a diverged loss) throws std::runtime_error naming the
/// parameter, before any weight changes.
void sgd_step(const std::vector<Parameter*>& params, double lr);

class Tape;
struct Node;
/// Backward rule of one op: adds this node's contribution to its inputs' gradients.
using BackwardFn = void (*)(Tape&, Node&);

// Note [One definition per op]
// An op is one OpDef: its name, how a node of it prints, and its backward rule. Each op defines
// its OpDef inside the function that records it, between its forward code and the line that
// commits the node (Tape::commit), so the forward computation, the backward rule and the name sit
// together in one place (autodiff/ops_*.cpp; docs/architecture.md, "How to add an op"). An OpDef
// is written with designated initialisers, `OpDef{.name = "matmul", .backward = backward, ...}`,
// naming the fields it sets; an element-wise op gets its OpDef from elementwise() (Note
// [Element-wise ops] in op_helpers.hpp). The tape knows ops only through their OpDef: adding one
// edits no enum and no switch. The tests know them through Note [The op registry].
//
// Note [Op parameters]
// An op with parameters (scale's constant, a leaky relu's slope) keeps them in its node as a
// small struct of its own, `struct Attrs { double slope; }`: Node::set_attrs stores it when the
// node is recorded, Node::attrs<Attrs>() reads it back in the backward rule and in attrs_text.
// The struct's type is checked on every read, so one op cannot read another's parameters.

// Note [Rules as text]
// An op also says its backward rule in words, beside the code that applies it, micrograd-style:
// OpDef::rule holds one line per input, "grad {a} += grad {out} ⊙ {out} (1 - {out})" with the
// names of Tape::label, and OpDef::numbers gives the same rule's numbers for one node: the
// operands in the order its pattern names them ("{0} ⊙ {1}") and the contribution they add to
// the input's gradient. --trace prints "rule = numbers = contribution" for every backward step
// (explain_backward in print.hpp). The numbers take their math from the same place as the
// backward rule: an element-wise op's f' (Note [Element-wise ops]), a coupled rule's one
// function given to accumulate_each and collect (softmax's, the losses'). The words are checked
// against docs/ops.md, the numbers against the gradient (tests/autodiff/test_ops.cpp).

/// One input's share of a backward rule, with its numbers (Note [Rules as text]).
struct RuleNumbers {
  /// How the operands combine, a fmt format string: "{0} ⊙ {1}" ({attrs} allowed; a literal
  /// brace is written twice).
  std::string_view pattern;
  std::vector<Tensor> operands;  ///< the numbers, in the order the pattern names them
  Tensor result;                 ///< what the rule adds to the input's gradient
};
/// The numbers of input k's rule (0: Node::a, 1: Node::b) for node `out` after its gradient is
/// complete.
using RuleNumbersFn = RuleNumbers (*)(Tape&, Node&, int k);

/// An op, once: its name, its label, its backward rule (Note [One definition per op]). Fill it
/// with designated initialisers; a field left out keeps its default.
struct OpDef {
  std::string_view name{};  ///< "matmul", as in docs/ops.md
  /// How Tape::label prints a node: {out} is the node's name, {a} and {b} its inputs', {op} the
  /// op's name, {attrs} its parameters. Empty: "{out} = {op}({a})" (or "({a}, {b})").
  std::string_view label{};
  BackwardFn backward = nullptr;  ///< nullptr for a leaf
  /// The node's parameters as text for {attrs}, for ops that have any (Note [Op parameters]).
  std::string (*attrs_text)(const Node&) = nullptr;
  /// The backward rule in words, one line per input (Note [Rules as text]); empty for a leaf.
  std::array<std::string_view, 2> rule{};
  RuleNumbersFn numbers = nullptr;  ///< the rule's numbers; nullptr for a leaf
};

/// One entry of the Wengert list.
struct Node {
  static constexpr std::uint32_t kNone = 0xffffffff;
  const OpDef* op = nullptr;  ///< what made this node (set when it is committed)
  std::uint32_t a = kNone;    ///< first input (index into the tape)
  std::uint32_t b = kNone;    ///< second input
  bool requires_grad = false;
  std::string name;            ///< "Z1"; empty for anonymous nodes
  Tensor saved;                ///< what backward needs besides the value (softmax of a loss)
  Parameter* param = nullptr;  ///< set for a Tape::param leaf

  const Tensor& value() const { return param != nullptr ? param->value : value_; }
  Tensor& value() { return param != nullptr ? param->value : value_; }
  Gradient& gradient() { return param != nullptr ? param->gradient() : grad_; }
  /// The gradient of the loss with respect to this node (zeros if none reached it).
  const Tensor& grad() { return gradient().get(value().shape()); }
  /// A leaf (input, variable, parameter): nothing to differentiate through.
  bool is_leaf() const { return op == nullptr || op->backward == nullptr; }

  /// Stores the op's parameters (Note [Op parameters]).
  template <class Attrs>
  void set_attrs(const Attrs& attrs) {
    static_assert(std::is_trivially_copyable_v<Attrs> && sizeof(Attrs) <= kAttrsBytes,
                  "an op's parameters are a small struct of plain values");
    std::memcpy(attrs_, &attrs, sizeof attrs);
    attrs_type_ = &kAttrsTag<Attrs>;
  }
  /// The op's parameters, stored by set_attrs with the same type.
  template <class Attrs>
  Attrs attrs() const {
    if (attrs_type_ != &kAttrsTag<Attrs>) {
      throw std::logic_error("Node::attrs: this node's parameters are of another type");
    }
    Attrs attrs;
    std::memcpy(&attrs, attrs_, sizeof attrs);
    return attrs;
  }

 private:
  friend class Tape;
  static constexpr std::size_t kAttrsBytes = 32;
  template <class Attrs>
  static constexpr char kAttrsTag = 0;  // one address per parameter type

  Tensor value_;
  Gradient grad_;
  alignas(std::max_align_t) unsigned char attrs_[kAttrsBytes] = {};
  const char* attrs_type_ = nullptr;
};

/// A handle to one node of a tape: cheap to copy, valid until the tape is cleared.
class Var {
 public:
  Var() = default;
  Var(Tape* tape, std::uint32_t index, std::uint32_t generation)
      : tape_(tape), index_(index), generation_(generation) {}

  bool valid() const { return tape_ != nullptr; }
  Tape& tape() const;
  std::uint32_t index() const { return index_; }
  Node& node() const;
  const Tensor& value() const { return node().value(); }
  const Tensor& grad() const { return node().grad(); }
  const Shape& shape() const { return node().value().shape(); }
  /// Names the node ("Z1") for printing; returns the same Var.
  Var named(std::string_view name) const;
  /// Whether a gradient flows back through this node (false for inputs and frozen Parameters).
  bool requires_grad() const { return node().requires_grad; }
  /// loss.backward(): tape().backward(*this), for a one-element Var.
  void backward() const;

 private:
  Tape* tape_ = nullptr;
  std::uint32_t index_ = Node::kNone;
  std::uint32_t generation_ = 0;
};

/// Where a traced node is: just computed (forward) or its gradient just completed (backward).
enum class Sweep : std::uint8_t { Forward, Backward };
/// Called for each node once it is complete, and as the backward sweep reaches it (--trace).
/// A node is complete when the next node is recorded, when it is named, or at backward() or
/// notify_observer(), so the observer sees the name that Var::named gave it.
using TapeObserver = std::function<void(Tape&, std::size_t index, Sweep)>;

class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  /// A leaf that never gets a gradient (data: an image, a label).
  Var input(const Tensor& value, std::string_view name = {});
  /// A leaf owned by the tape that gets a gradient.
  Var variable(const Tensor& value, std::string_view name = {});
  /// A leaf for a Parameter: no copy; gradients accumulate into the Parameter.
  Var param(Parameter& p);

  /// One reverse sweep from `loss` (one element), seeding dloss/dloss = seed. A second one on
  /// the same recording while its leaves still hold the first's gradients throws
  /// std::logic_error (Note [One backward per recording]).
  void backward(Var loss, double seed = 1.0);
  /// Reverse sweep from any output with a given seed gradient (a vector-Jacobian product).
  void backward(Var output, const Tensor& seed);
  /// backward() that adds to whatever the leaves hold, even from an earlier sweep of this same
  /// recording: accumulation asked for (PyTorch's retain_graph=True).
  void backward_accumulating(Var loss, double seed = 1.0);

  /// Forgets every node but keeps their memory: a training loop that records the same
  /// graph each step stops allocating after the first step.
  void clear();
  /// Empties the gradient of every node on the tape, and of the Parameters it points to.
  void zero_grad();

  std::size_t size() const { return size_; }
  Node& node(std::size_t i) { return *nodes_[i]; }
  const Node& node(std::size_t i) const { return *nodes_[i]; }
  Var var(std::size_t i) { return {this, static_cast<std::uint32_t>(i), generation_}; }
  /// The Parameters this tape points to, in order of first use.
  std::vector<Parameter*> parameters() const;
  /// "Z1 = W0 · O0": the node's name, its op and its inputs' names (OpDef::label).
  std::string label(std::size_t i) const;
  /// "grad Z += grad O ⊙ O (1 - O)": node i's backward rule for input k (0: a, 1: b) with the
  /// names of label(); empty when the op has none (Note [Rules as text]).
  std::string rule(std::size_t i, int k) const;
  /// A node's name for printing: its own, or "%7" for anonymous node 7.
  std::string name_of(std::size_t i) const;

  void set_observer(TapeObserver observer) { observer_ = std::move(observer); }
  /// Calls the observer for every node recorded since it was last called. Var::named and
  /// backward() call it, so a forward pass that names its last node needs no call of its own.
  void notify_observer();

  // ---- for ops (autodiff/ops_*.cpp; Note [One definition per op]) ----
  /// Appends a node of the given shape with inputs a and b (or none). Its value has that shape
  /// but unspecified contents: the op computes it, then commits the node with its OpDef.
  Node& record(const Shape& shape, Var a = {}, Var b = {});
  /// Finishes the node recorded last as a node of `op` and returns its Var.
  Var commit(const OpDef& op);
  std::uint32_t generation() const { return generation_; }

 private:
  template <class Seed>
  void start_sweep(Var output, Seed seed, bool accumulating = false);
  void sweep(std::size_t from);
  void refuse_a_doubling_sweep(std::size_t from);
  Var leaf(const OpDef& op, const Tensor& value, std::string_view name, bool requires_grad);

  std::vector<std::unique_ptr<Node>> nodes_;  // nodes_[0..size_) are live; see clear()
  std::size_t size_ = 0;
  std::uint32_t generation_ = 1;  // bumped by clear(); a Var from before is stale
  std::size_t notified_ = 0;      // nodes [0, notified_) were shown to the observer
  bool swept_ = false;            // backward() ran since the last clear()
  TapeObserver observer_;
};

}  // namespace stepgrad
