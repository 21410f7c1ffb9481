// The tape's bookkeeping: leaves, recording, clearing, and the reverse sweep.
#include <stepgrad/autodiff/tape.hpp>

#include <stepgrad/autodiff/kernels.hpp>

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
  const std::size_t count = (v.size() + kernels::kBlock - 1) / kernels::kBlock;
  const std::span<const std::uint32_t> lit = kernels::nonzero_blocks(v.data(), v.size());
  blocks_.reserve(count);  // room for every block: later steps never allocate
  if (lit.empty()) {       // dense (or all zero): every block
    blocks_.resize(count);
    std::iota(blocks_.begin(), blocks_.end(), std::uint32_t{0});
  } else {
    blocks_.assign(lit.begin(), lit.end());
  }
  state_ = State::outer;
}

void Gradient::subtract_outer(Tensor& value, double lr) const {
  kernels::sub_outer_blocks(u_.size(), v_.size(), lr, u_.data(), v_.data(), blocks_, value.data());
}

void Gradient::write_out() {
  tensor_.resize(Shape::matrix(u_.size(), v_.size()));
  tensor_.fill(0.0);
  kernels::outer_blocks(u_.size(), v_.size(), 1.0, u_.data(), v_.data(), blocks_, tensor_.data());
  state_ = State::dense;
}

void Parameter::sgd_step(double lr) {
  if (grad_.empty()) return;  // a zero gradient moves nothing
  if (grad_.is_outer()) {     // Note [Outer-product gradients]
    grad_.subtract_outer(value, lr);
  } else {
    const Tensor& g = grad_.get(value.shape());
    double* w = value.data();
    const double* gd = g.data();
    for (std::size_t i = 0, n = value.size(); i < n; ++i) w[i] -= lr * gd[i];
  }
  grad_.clear();
}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::Input:
      return "input";
    case Op::Variable:
      return "variable";
    case Op::Param:
      return "param";
    case Op::MatMul:
      return "matmul";
    case Op::Add:
      return "add";
    case Op::Sub:
      return "sub";
    case Op::Mul:
      return "mul";
    case Op::Scale:
      return "scale";
    case Op::Neg:
      return "neg";
    case Op::RSub:
      return "rsub";
    case Op::Sum:
      return "sum";
    case Op::Dot:
      return "dot";
    case Op::Outer:
      return "outer";
    case Op::AddToColumns:
      return "add_to_columns";
    case Op::Exp:
      return "exp";
    case Op::Log:
      return "log";
    case Op::Sigmoid:
      return "sigmoid";
    case Op::Tanh:
      return "tanh";
    case Op::Relu:
      return "relu";
    case Op::Softmax:
      return "softmax";
    case Op::LogSoftmax:
      return "log_softmax";
    case Op::BinaryCrossEntropy:
      return "binary_cross_entropy";
    case Op::CrossEntropyLogits:
      return "cross_entropy_logits";
  }
  return "?";
}

Tape& Var::tape() const {
  if (tape_ == nullptr) throw std::logic_error("Var: empty handle (default-constructed)");
  if (generation_ != tape_->generation()) {
    throw std::logic_error("Var: its tape was cleared since this Var was made");
  }
  return *tape_;
}

Node& Var::node() const { return tape().node(index_); }

Var Var::named(std::string_view name) const {
  node().name.assign(name);
  tape_->announce();
  return *this;
}

Node& Tape::record(Op op, const Shape& shape, Var a, Var b) {
  for (const Var* in : {&a, &b}) {
    if (in->valid() && &in->tape() != this) {
      throw std::logic_error(fmt::format("{}: inputs come from another tape", op_name(op)));
    }
  }
  announce();  // the nodes before this one are complete
  if (size_ == nodes_.size()) nodes_.push_back(std::make_unique<Node>());
  Node& n = *nodes_[size_++];
  n.op = op;
  n.a = a.valid() ? a.index() : Node::kNone;
  n.b = b.valid() ? b.index() : Node::kNone;
  n.scalar = 0.0;
  n.requires_grad = (a.valid() && a.node().requires_grad) || (b.valid() && b.node().requires_grad);
  n.name.clear();
  n.backward = nullptr;
  n.param = nullptr;
  n.gradient().clear();
  n.value().resize(shape);
  return n;
}

void Tape::announce() {
  if (observer_) {
    for (; announced_ < size_; ++announced_) observer_(*this, announced_, Sweep::Forward);
  }
  announced_ = size_;
}

Var Tape::leaf(Op op, const Tensor& value, std::string_view name, bool requires_grad) {
  Node& n = record(op, value.shape());
  std::copy(value.values().begin(), value.values().end(), n.value().values().begin());
  n.requires_grad = requires_grad;
  n.name.assign(name);
  return commit();
}

Var Tape::input(const Tensor& value, std::string_view name) {
  return leaf(Op::Input, value, name, false);
}

Var Tape::variable(const Tensor& value, std::string_view name) {
  return leaf(Op::Variable, value, name, true);
}

Var Tape::param(Parameter& p) {
  Node& n = record(Op::Param, Shape::scalar());
  n.param = &p;  // from here on n.value() and n.gradient() are the Parameter's
  n.requires_grad = true;
  n.name.assign(p.name);
  return commit();
}

void Tape::clear() {
  announce();
  size_ = 0;
  announced_ = 0;
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

void Tape::backward(Var loss, double seed) {
  if (loss.value().size() != 1) {
    throw ShapeError(
        fmt::format("backward: the loss must have one element, not shape {} (pass a "
                    "seed tensor for a vector-Jacobian product)",
                    loss.shape()));
  }
  start_sweep(loss, [&](std::size_t) { return seed; });
}

void Tape::backward(Var output, const Tensor& seed) {
  if (seed.shape() != output.shape()) {
    throw_shape_error("backward", output.shape(), seed.shape(), "the seed must match the output");
  }
  start_sweep(output, [&](std::size_t i) { return seed[i]; });
}

template <class Seed>
void Tape::start_sweep(Var output, Seed seed) {
  announce();
  // Intermediate gradients belong to one sweep; leaves (variables, parameters) accumulate
  // across sweeps (Note [Gradient accumulation]).
  for (std::size_t i = 0; i < size_; ++i) {
    if (nodes_[i]->op != Op::Variable && nodes_[i]->op != Op::Param) nodes_[i]->gradient().clear();
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
    if (n.backward != nullptr) n.backward(*this, n);
  }
}

std::string Tape::label(std::size_t i) const {
  const Node& n = *nodes_[i];
  auto name_of = [&](std::uint32_t j) {
    return nodes_[j]->name.empty() ? fmt::format("%{}", j) : nodes_[j]->name;
  };
  const std::string self = name_of(static_cast<std::uint32_t>(i));
  const std::string a = n.a != Node::kNone ? name_of(n.a) : "";
  const std::string b = n.b != Node::kNone ? name_of(n.b) : "";
  switch (n.op) {
    case Op::Input:
    case Op::Variable:
    case Op::Param:
      return fmt::format("{} ({})", self, op_name(n.op));
    case Op::MatMul:
      return fmt::format("{} = {} · {}", self, a, b);
    case Op::Add:
      return fmt::format("{} = {} + {}", self, a, b);
    case Op::AddToColumns:
      return fmt::format("{} = {} + {} (each column)", self, a, b);
    case Op::Sub:
      return fmt::format("{} = {} - {}", self, a, b);
    case Op::Mul:
      return fmt::format("{} = {} ⊙ {}", self, a, b);
    case Op::Scale:
      return fmt::format("{} = {:g} * {}", self, n.scalar, a);
    case Op::Neg:
      return fmt::format("{} = -{}", self, a);
    case Op::RSub:
      return fmt::format("{} = {:g} - {}", self, n.scalar, a);
    case Op::Dot:
      return fmt::format("{} = {} · {} (dot)", self, a, b);
    case Op::Outer:
      return fmt::format("{} = {} ⊗ {}", self, a, b);
    case Op::Sum:
    case Op::Exp:
    case Op::Log:
    case Op::Sigmoid:
    case Op::Tanh:
    case Op::Relu:
    case Op::Softmax:
    case Op::LogSoftmax:
      return fmt::format("{} = {}({})", self, op_name(n.op), a);
    case Op::BinaryCrossEntropy:
    case Op::CrossEntropyLogits:
      return fmt::format("{} = {}({}, {})", self, op_name(n.op), a, b);
  }
  return self;
}

}  // namespace stepgrad
