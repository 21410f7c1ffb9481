// The tape's bookkeeping: leaves, recording, clearing, and the reverse sweep.
#include <stepgrad/autodiff/tape.hpp>

#include <stepgrad/autodiff/kernels.hpp>
#include <stepgrad/autodiff/op_helpers.hpp>

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace stepgrad {

const Tensor& Gradient::get(const Shape& shape) {
  if (state_ == State::empty) {
    tensor_.resize(shape);
    tensor_.fill(0.0);
    state_ = State::dense;  // now a real (zero) gradient that later contributions add to
  } else if (state_ == State::outer) {
    write_out();
  }
  return tensor_;
}

Gradient::Target Gradient::for_accumulation(const Shape& shape) {
  if (state_ == State::empty) {
    tensor_.resize(shape);  // keeps the allocation: no malloc after the first step
    state_ = State::dense;
    return {tensor_, 0.0};
  }
  if (state_ == State::outer) write_out();
  return {tensor_, 1.0};
}

void Gradient::start_outer(const Tensor& u, const Tensor& v) {
  if (state_ != State::empty) {
    throw std::logic_error("Gradient::start_outer: only the first contribution");
  }
  // Tensor's copy assignment reuses the allocation (std::vector's does): no malloc per step.
  u_ = u;
  v_ = v;
  state_ = State::outer;
}

void Gradient::subtract_outer(Tensor& value, double lr) const {
  stepgrad::sub_outer(value, lr, u_, v_);  // either layout (Note [Column-major storage])
}

void Gradient::write_out() {
  tensor_.resize(Shape::matrix(u_.size(), v_.size()));
  kernels::outer(u_.size(), v_.size(), 1.0, u_.data(), v_.data(), 0.0, tensor_.data());
  state_ = State::dense;
}

void Parameter::sgd_step(double lr) {
  if (grad_.empty()) return;  // a zero gradient moves nothing
  if (grad_.is_outer()) {     // Note [Outer-product gradients]
    grad_.subtract_outer(value, lr);
  } else {
    const Tensor& g = grad_.get(value.shape());  // row-major
    double* w = value.data();
    const double* gd = g.data();
    if (stored_transposed(value)) {  // Note [Column-major storage]
      const std::size_t rows = value.rows(), cols = value.cols();
      for (std::size_t c = 0; c < cols; ++c)
        for (std::size_t r = 0; r < rows; ++r) w[c * rows + r] -= lr * gd[r * cols + c];
    } else {
      for (std::size_t i = 0, n = value.size(); i < n; ++i) w[i] -= lr * gd[i];
    }
  }
  grad_.clear();
}

void zero_grad(const std::vector<Parameter*>& params) {
  for (Parameter* p : params) p->zero_grad();
}

void sgd_step(const std::vector<Parameter*>& params, double lr) {
  // A diverged loss (a learning rate too large) gives NaN or Inf gradients, and one step with
  // them turns every weight into NaN without a word: stop first, the weights untouched.
  for (Parameter* p : params) {
    if (!p->has_grad()) continue;
    const std::span<const double> g = p->grad().values();
    if (!std::all_of(g.begin(), g.end(), [](double v) { return std::isfinite(v); })) {
      throw std::runtime_error(fmt::format(
          "sgd_step: the gradient of {} holds NaN or Inf: the loss diverged; try a smaller "
          "learning rate",
          p->name.empty() ? "a parameter" : p->name));
    }
  }
  for (Parameter* p : params) p->sgd_step(lr);
}

Tape& Var::tape() const {
  if (tape_ == nullptr) throw std::logic_error("Var: empty handle (default-constructed)");
  if (generation_ != tape_->generation()) {
    throw std::logic_error("Var: its tape was cleared since this Var was made");
  }
  return *tape_;
}

Node& Var::node() const { return tape().node(index_); }

void Var::backward() const { tape().backward(*this); }

Var Var::named(std::string_view name) const {
  node().name.assign(name);
  tape_->notify_observer();
  return *this;
}

Node& Tape::record(const Shape& shape, Var a, Var b) {
  for (const Var* in : {&a, &b}) {
    if (in->valid() && &in->tape() != this) {
      throw std::logic_error("an op's inputs come from two tapes: a Var belongs to its own tape");
    }
  }
  notify_observer();  // the nodes before this one are complete
  if (size_ == nodes_.size()) nodes_.push_back(std::make_unique<Node>());
  Node& n = *nodes_[size_++];
  n.op = nullptr;
  n.a = a.valid() ? a.index() : Node::kNone;
  n.b = b.valid() ? b.index() : Node::kNone;
  n.requires_grad = (a.valid() && a.node().requires_grad) || (b.valid() && b.node().requires_grad);
  n.name.clear();
  n.param = nullptr;
  n.attrs_type_ = nullptr;
  n.gradient().clear();
  n.value().resize(shape);
  return n;
}

Var Tape::commit(const OpDef& op) {
  nodes_[size_ - 1]->op = &op;
  return var(size_ - 1);
}

void require_same_shape(std::string_view op, Var a, Var b) {
  if (a.shape() != b.shape()) throw_shape_error(op, a.shape(), b.shape(), "need equal shapes");
}

// Note [The op registry] (op_helpers.hpp).
namespace {
std::vector<OpCheck>& op_registry() {
  static std::vector<OpCheck> checks;  // filled as the program starts, before main()
  return checks;
}
}  // namespace

RegisterOp::RegisterOp(OpCheck check) { op_registry().push_back(std::move(check)); }

const std::vector<OpCheck>& registered_ops() { return op_registry(); }

ApplyOp unary(Var (*op)(Var)) {
  return [op](std::span<const Var> v) { return op(v[0]); };
}

ApplyOp binary(Var (*op)(Var, Var)) {
  return [op](std::span<const Var> v) { return op(v[0], v[1]); };
}

void Tape::notify_observer() {
  if (observer_) {
    for (; notified_ < size_; ++notified_) observer_(*this, notified_, Sweep::Forward);
  }
  notified_ = size_;
}

// The leaves: ops with no inputs and no backward rule.
namespace {
constexpr OpDef kInputOp{.name = "input", .label = "{out} (input)"};
constexpr OpDef kVariableOp{.name = "variable", .label = "{out} (variable)"};
constexpr OpDef kParamOp{.name = "param", .label = "{out} (param)"};
}  // namespace

Var Tape::leaf(const OpDef& op, const Tensor& value, std::string_view name, bool requires_grad) {
  Node& n = record(value.shape());
  std::copy(value.values().begin(), value.values().end(), n.value().values().begin());
  n.requires_grad = requires_grad;
  n.name.assign(name);
  return commit(op);
}

Var Tape::input(const Tensor& value, std::string_view name) {
  return leaf(kInputOp, value, name, false);
}

Var Tape::variable(const Tensor& value, std::string_view name) {
  return leaf(kVariableOp, value, name, true);
}

Var Tape::param(Parameter& p) {
  Node& n = record(Shape::scalar());
  n.param = &p;  // from here on n.value() and n.gradient() are the Parameter's
  n.requires_grad = p.requires_grad;
  n.name.assign(p.name);
  return commit(kParamOp);
}

void Tape::clear() {
  notify_observer();
  size_ = 0;
  notified_ = 0;
  swept_ = false;
  ++generation_;
}

void Tape::zero_grad() {
  for (std::size_t i = 0; i < size_; ++i) nodes_[i]->gradient().clear();
}

std::vector<Parameter*> Tape::parameters() const {
  std::vector<Parameter*> ps;
  for (std::size_t i = 0; i < size_; ++i) {
    Parameter* p = nodes_[i]->param;
    if (p != nullptr && std::find(ps.begin(), ps.end(), p) == ps.end()) ps.push_back(p);
  }
  return ps;
}

namespace {
void require_one_element(Var loss) {
  if (loss.value().size() != 1) {
    throw ShapeError(
        fmt::format("backward: the loss must have one element, not shape {} (pass a "
                    "seed tensor for a vector-Jacobian product)",
                    loss.shape()));
  }
}
}  // namespace

void Tape::backward(Var loss, double seed) {
  require_one_element(loss);
  start_sweep(loss, [&](std::size_t) { return seed; });
}

void Tape::backward_accumulating(Var loss, double seed) {
  require_one_element(loss);
  start_sweep(
      loss, [&](std::size_t) { return seed; }, true);
}

void Tape::backward(Var output, const Tensor& seed) {
  if (seed.shape() != output.shape()) {
    throw_shape_error("backward", output.shape(), seed.shape(), "the seed must match the output");
  }
  start_sweep(output, [&](std::size_t i) { return seed[i]; });
}

namespace {
// Whether a leaf's gradient holds anything a sweep would add to: reading an empty gradient
// writes zeros (Gradient::get), and adding to zeros doubles nothing.
bool holds_a_gradient(Node& n) {
  if (n.gradient().empty()) return false;
  if (n.gradient().is_outer()) return true;
  const std::span<const double> g = n.grad().values();
  return std::any_of(g.begin(), g.end(), [](double v) { return v != 0.0; });
}
}  // namespace

void Tape::refuse_a_doubling_sweep(std::size_t from) {
  // Note [One backward per recording]: the leaves this sweep would reach (the nodes come after
  // their inputs, so one pass from the output back finds them) must not still hold gradients.
  std::vector<bool> reached(from + 1, false);
  reached[from] = true;
  for (std::size_t i = from + 1; i-- > 0;) {
    Node& n = *nodes_[i];
    if (!reached[i] || !n.requires_grad) continue;
    if (!n.is_leaf()) {
      if (n.a != Node::kNone) reached[n.a] = true;
      if (n.b != Node::kNone) reached[n.b] = true;
    } else if (holds_a_gradient(n)) {
      throw std::logic_error(fmt::format(
          "backward: a second backward() on this tape would add to the gradient {} still holds "
          "from the first (doubling it): call zero_grad() first, record again after clear(), or "
          "call backward_accumulating() to add on purpose",
          name_of(i)));
    }
  }
}

template <class Seed>
void Tape::start_sweep(Var output, Seed seed, bool accumulating) {
  notify_observer();
  if (swept_ && !accumulating) refuse_a_doubling_sweep(output.index());
  swept_ = true;
  // Intermediate gradients belong to one sweep; leaves (variables, parameters) accumulate
  // across sweeps (Note [Gradient accumulation]).
  for (std::size_t i = 0; i < size_; ++i) {
    if (!nodes_[i]->is_leaf()) nodes_[i]->gradient().clear();
  }
  Node& out = output.node();
  accumulate(out, seed);
  sweep(output.index());
}

void Tape::sweep(std::size_t from) {
  // The Wengert list is already in topological order (every node comes after its inputs),
  // so one loop from the output back to the start is the whole algorithm: no graph search.
  for (std::size_t i = from + 1; i-- > 0;) {
    Node& n = *nodes_[i];
    if (!n.requires_grad || n.gradient().empty()) continue;  // no gradient flows through here
    if (observer_) observer_(*this, i, Sweep::Backward);
    if (!n.is_leaf()) n.op->backward(*this, n);
  }
}

std::string Tape::name_of(std::size_t i) const {
  return nodes_[i]->name.empty() ? fmt::format("%{}", i) : nodes_[i]->name;
}

std::string Tape::label(std::size_t i) const {
  const Node& n = *nodes_[i];
  const std::string self = name_of(i);
  if (n.op == nullptr) return self;  // still being recorded
  const std::string a = n.a != Node::kNone ? name_of(n.a) : "";
  const std::string b = n.b != Node::kNone ? name_of(n.b) : "";
  std::string_view format = n.op->label;
  if (format.empty()) format = n.b != Node::kNone ? "{out} = {op}({a}, {b})" : "{out} = {op}({a})";
  return fmt::format(fmt::runtime(format), fmt::arg("out", self), fmt::arg("op", n.op->name),
                     fmt::arg("a", a), fmt::arg("b", b),
                     fmt::arg("attrs", n.op->attrs_text != nullptr ? n.op->attrs_text(n) : ""));
}

std::string Tape::rule(std::size_t i, int k) const {
  const Node& n = *nodes_[i];
  if (n.op == nullptr || k < 0 || k > 1) return "";
  const std::string_view text = n.op->rule[static_cast<std::size_t>(k)];
  if (text.empty()) return "";
  const std::string a = n.a != Node::kNone ? name_of(n.a) : "";
  const std::string b = n.b != Node::kNone ? name_of(n.b) : "";
  return fmt::format(fmt::runtime(text), fmt::arg("out", name_of(i)), fmt::arg("a", a),
                     fmt::arg("b", b),
                     fmt::arg("attrs", n.op->attrs_text != nullptr ? n.op->attrs_text(n) : ""));
}

}  // namespace stepgrad
