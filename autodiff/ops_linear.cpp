// Linear algebra and arithmetic ops. Each records its node and computes the value (forward),
// defines its backward rule right below, and commits the node with that definition (Note [One
// definition per op] in tape.hpp); then registers itself for the tests (Note [The op registry]).
#include <stepgrad/autodiff/kernels.hpp>
#include <stepgrad/autodiff/op_helpers.hpp>
#include <stepgrad/autodiff/ops.hpp>

#include <cassert>

namespace stepgrad {

Var matmul(Var a, Var b) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  if (sa.rank != 2 || sb.rank == 0 || sa.cols != sb.rows) {
    throw_shape_error("matmul", sa, sb, "need (m, k) · (k, n) or (m, k) · (k,)");
  }
  Tape& t = a.tape();
  // A (a weight) may be column-major, B may not: Note [Column-major storage] in tensor.hpp.
  assert(b.value().layout() == Layout::row_major);
  Node& c = t.record(sb.rank == 1 ? Shape::vector(sa.rows) : Shape::matrix(sa.rows, sb.cols), a, b);
  kernels::gemm(stored_transposed(a.value()), false, sa.rows, sb.cols, sa.cols, a.value().data(),
                b.value().data(), 0.0, c.value().data());
  constexpr auto backward = [](Tape& tape, Node& out) {
    Node& in_a = tape.node(out.a);
    Node& in_b = tape.node(out.b);
    const Tensor& g = out.grad();  // (rows, cols)
    const std::size_t rows = in_a.value().rows(), k = in_a.value().cols(),
                      cols = in_b.value().cols();
    if (in_a.requires_grad) {
      Gradient& grad_a = in_a.gradient();
      if (cols == 1 && grad_a.empty()) {
        // dA = G ⊗ B, kept as its two factors: Note [Outer-product gradients]
        grad_a.start_outer(g, in_b.value());
      } else if (cols == 1) {
        // dA += G ⊗ B (one sample: the outer product of the incoming gradient and the input)
        auto [ga, beta] = grad_a.for_accumulation(in_a.value().shape());
        kernels::outer(rows, k, 1.0, g.data(), in_b.value().data(), beta, ga.data());
      } else {
        // dA += G · B^T
        auto [ga, beta] = grad_a.for_accumulation(in_a.value().shape());
        kernels::gemm(false, true, rows, k, cols, g.data(), in_b.value().data(), beta, ga.data());
      }
    }
    if (in_b.requires_grad) {
      auto [gb, beta] = in_b.gradient().for_accumulation(in_b.value().shape());
      // dB += A^T · G (a column-major A holds A^T row-major)
      kernels::gemm(!stored_transposed(in_a.value()), false, k, cols, rows, in_a.value().data(),
                    g.data(), beta, gb.data());
    }
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int k) -> RuleNumbers {
    const Tensor& av = tape.node(out.a).value();
    const Tensor& bv = tape.node(out.b).value();
    const Tensor& g = out.grad();
    if (k == 0) {
      return {"{0} · {1}^T", {g, bv}, bv.rank() == 1 ? outer(g, bv) : matmul(g, transpose(bv))};
    }
    return {"{0}^T · {1}", {av, g}, matmul(transpose(av), g)};
  };
  static constexpr OpDef op{
      .name = "matmul",
      .label = "{out} = {a} · {b}",
      .backward = backward,
      .rule = {"grad {a} += grad {out} · {b}^T", "grad {b} += {a}^T · grad {out}"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_matmul{{.name = "matmul",
                                  .apply = binary(matmul),
                                  .inputs = {Domain{}, Domain{}},
                                  .shapes = {{Shape::matrix(3, 4), Shape::vector(4)},
                                             {Shape::matrix(3, 4), Shape::matrix(4, 2)}}}};

Var add(Var a, Var b) {
  require_same_shape("add", a, b);
  record_zip(a, b, [](double x, double y) { return x + y; });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    // d(a + b) = g for both
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i]; });
    accumulate(tape.node(out.b), [&](std::size_t i) { return g[i]; });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    return {"{0}", {out.grad()}, out.grad()};
  };
  static constexpr OpDef op{
      .name = "add",
      .label = "{out} = {a} + {b}",
      .backward = backward,
      .rule = {"grad {a} += grad {out}", "grad {b} += grad {out}"},
      .numbers = numbers,
  };
  return a.tape().commit(op);
}
const RegisterOp register_add{
    {.name = "add", .apply = binary(add), .inputs = {Domain{}, Domain{}}}};

Var sub(Var a, Var b) {
  require_same_shape("sub", a, b);
  record_zip(a, b, [](double x, double y) { return x - y; });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    // d(a - b): da = g, db = -g
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i]; });
    accumulate(tape.node(out.b), [&](std::size_t i) { return -g[i]; });
  };
  constexpr auto numbers = [](Tape&, Node& out, int k) -> RuleNumbers {
    if (k == 0) return {"{0}", {out.grad()}, out.grad()};
    return {"-{0}", {out.grad()}, -1.0 * out.grad()};
  };
  static constexpr OpDef op{
      .name = "sub",
      .label = "{out} = {a} - {b}",
      .backward = backward,
      .rule = {"grad {a} += grad {out}", "grad {b} += -grad {out}"},
      .numbers = numbers,
  };
  return a.tape().commit(op);
}
const RegisterOp register_sub{
    {.name = "sub", .apply = binary(sub), .inputs = {Domain{}, Domain{}}}};

Var mul(Var a, Var b) {
  require_same_shape("mul", a, b);
  record_zip(a, b, [](double x, double y) { return x * y; });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    Node& in_a = tape.node(out.a);
    Node& in_b = tape.node(out.b);
    // d(a ⊙ b): da = g ⊙ b, db = g ⊙ a
    accumulate(in_a, [&](std::size_t i) { return g[i] * in_b.value()[i]; });
    accumulate(in_b, [&](std::size_t i) { return g[i] * in_a.value()[i]; });
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int k) -> RuleNumbers {
    const Tensor& other = tape.node(k == 0 ? out.b : out.a).value();
    return {"{0} ⊙ {1}", {out.grad(), other}, hadamard(out.grad(), other)};
  };
  static constexpr OpDef op{
      .name = "mul",
      .label = "{out} = {a} ⊙ {b}",
      .backward = backward,
      .rule = {"grad {a} += grad {out} ⊙ {b}", "grad {b} += grad {out} ⊙ {a}"},
      .numbers = numbers,
  };
  return a.tape().commit(op);
}
const RegisterOp register_mul{
    {.name = "mul", .apply = binary(mul), .inputs = {Domain{}, Domain{}}}};

namespace {
// The constant of scale and rsub (Note [Op parameters]).
struct Constant {
  double c;
};
std::string constant_text(const Node& n) { return fmt::format("{:g}", n.attrs<Constant>().c); }
}  // namespace

Var scale(Var x, double c) {
  record_map(x, [c](double v) { return c * v; }).set_attrs(Constant{c});
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    const double k = out.attrs<Constant>().c;
    // d(c x) = c g
    accumulate(tape.node(out.a), [&](std::size_t i) { return k * g[i]; });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    return {"{attrs} * {0}", {out.grad()}, out.attrs<Constant>().c * out.grad()};
  };
  static constexpr OpDef op{
      .name = "scale",
      .label = "{out} = {attrs} * {a}",
      .backward = backward,
      .attrs_text = constant_text,
      .rule = {"grad {a} += {attrs} * grad {out}"},
      .numbers = numbers,
  };
  return x.tape().commit(op);
}
const RegisterOp register_scale{{.name = "scale",
                                 .apply = [](std::span<const Var> v) { return scale(v[0], -1.5); },
                                 .inputs = {Domain{}}}};

Var neg(Var x) {
  record_map(x, [](double v) { return -v; });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    // d(-x) = -g
    accumulate(tape.node(out.a), [&](std::size_t i) { return -g[i]; });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    return {"-{0}", {out.grad()}, -1.0 * out.grad()};
  };
  static constexpr OpDef op{
      .name = "neg",
      .label = "{out} = -{a}",
      .backward = backward,
      .rule = {"grad {a} += -grad {out}"},
      .numbers = numbers,
  };
  return x.tape().commit(op);
}
const RegisterOp register_neg{{.name = "neg", .apply = unary(neg), .inputs = {Domain{}}}};

Var rsub(double c, Var x) {
  record_map(x, [c](double v) { return c - v; }).set_attrs(Constant{c});
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    // d(c - x) = -g
    accumulate(tape.node(out.a), [&](std::size_t i) { return -g[i]; });
  };
  constexpr auto numbers = [](Tape&, Node& out, int) -> RuleNumbers {
    return {"-{0}", {out.grad()}, -1.0 * out.grad()};
  };
  static constexpr OpDef op{
      .name = "rsub",
      .label = "{out} = {attrs} - {a}",
      .backward = backward,
      .attrs_text = constant_text,
      .rule = {"grad {a} += -grad {out}"},
      .numbers = numbers,
  };
  return x.tape().commit(op);
}
const RegisterOp register_rsub{{.name = "rsub",
                                .apply = [](std::span<const Var> v) { return rsub(1.0, v[0]); },
                                .inputs = {Domain{}}}};

Var sum(Var x) {
  Tape& t = x.tape();
  Node& y = t.record(Shape::scalar(), x);
  double s = 0.0;
  for (double v : x.value().values()) s += v;
  y.value()[0] = s;
  constexpr auto backward = [](Tape& tape, Node& out) {
    const double g = out.grad()[0];
    // d sum(x) = g, spread over every element
    accumulate(tape.node(out.a), [&](std::size_t) { return g; });
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int) -> RuleNumbers {
    const double g = out.grad()[0];
    return {"{0} in every element", {out.grad()}, map(tape.node(out.a).value(), [g](double) {
              return g;
            })};
  };
  static constexpr OpDef op{
      .name = "sum",
      .backward = backward,
      .rule = {"grad {a} += grad {out} in every element"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_sum{{.name = "sum", .apply = unary(sum), .inputs = {Domain{}}}};

Var mean(Var x) {
  Tape& t = x.tape();
  Node& y = t.record(Shape::scalar(), x);
  double s = 0.0;
  for (double v : x.value().values()) s += v;
  y.value()[0] = s / static_cast<double>(x.value().size());
  constexpr auto backward = [](Tape& tape, Node& out) {
    Node& in = tape.node(out.a);
    const double g = out.grad()[0] / static_cast<double>(in.value().size());
    // d mean(x) = g / n, spread over every element
    accumulate(in, [&](std::size_t) { return g; });
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int) -> RuleNumbers {
    const Tensor& xv = tape.node(out.a).value();
    const double n = static_cast<double>(xv.size());
    const double g = out.grad()[0] / n;
    return {"{0} / {1} in every element", {out.grad(), Tensor::scalar(n)}, map(xv, [g](double) {
              return g;
            })};
  };
  static constexpr OpDef op{
      .name = "mean",
      .backward = backward,
      .rule = {"grad {a} += grad {out} / size({a}) in every element"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_mean{{.name = "mean", .apply = unary(mean), .inputs = {Domain{}}}};

Var dot(Var a, Var b) {
  require_same_shape("dot", a, b);
  Tape& t = a.tape();
  Node& c = t.record(Shape::scalar(), a, b);
  const Tensor& av = a.value();
  const Tensor& bv = b.value();
  double s = 0.0;
  for (std::size_t i = 0; i < av.size(); ++i) s += av[i] * bv[i];
  c.value()[0] = s;
  constexpr auto backward = [](Tape& tape, Node& out) {
    const double g = out.grad()[0];
    Node& in_a = tape.node(out.a);
    Node& in_b = tape.node(out.b);
    // d(a · b): da = g b, db = g a
    accumulate(in_a, [&](std::size_t i) { return g * in_b.value()[i]; });
    accumulate(in_b, [&](std::size_t i) { return g * in_a.value()[i]; });
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int k) -> RuleNumbers {
    const Tensor& other = tape.node(k == 0 ? out.b : out.a).value();
    return {"{0} * {1}", {out.grad(), other}, out.grad()[0] * other};
  };
  static constexpr OpDef op{
      .name = "dot",
      .label = "{out} = {a} · {b} (dot)",
      .backward = backward,
      .rule = {"grad {a} += grad {out} * {b}", "grad {b} += grad {out} * {a}"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_dot{
    {.name = "dot", .apply = binary(dot), .inputs = {Domain{}, Domain{}}}};

Var outer(Var u, Var v) {
  if (u.shape().rank != 1 || v.shape().rank != 1) {
    throw_shape_error("outer", u.shape(), v.shape(), "need two vectors");
  }
  Tape& t = u.tape();
  const std::size_t m = u.shape().rows, n = v.shape().rows;
  Node& c = t.record(Shape::matrix(m, n), u, v);
  kernels::outer(m, n, 1.0, u.value().data(), v.value().data(), 0.0, c.value().data());
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();  // (rows, cols)
    Node& in_u = tape.node(out.a);
    Node& in_v = tape.node(out.b);
    const std::size_t rows = g.rows(), cols = g.cols();
    if (in_u.requires_grad) {
      auto [gu, beta] = in_u.gradient().for_accumulation(in_u.value().shape());
      // du = G · v
      kernels::gemm(false, false, rows, 1, cols, g.data(), in_v.value().data(), beta, gu.data());
    }
    if (in_v.requires_grad) {
      auto [gv, beta] = in_v.gradient().for_accumulation(in_v.value().shape());
      // dv = G^T · u
      kernels::gemm(true, false, cols, 1, rows, g.data(), in_u.value().data(), beta, gv.data());
    }
  };
  constexpr auto numbers = [](Tape& tape, Node& out, int k) -> RuleNumbers {
    const Tensor& g = out.grad();
    if (k == 0) {
      const Tensor& vv = tape.node(out.b).value();
      return {"{0} · {1}", {g, vv}, matmul(g, vv)};
    }
    const Tensor& uv = tape.node(out.a).value();
    return {"{0}^T · {1}", {g, uv}, matmul(transpose(g), uv)};
  };
  static constexpr OpDef op{
      .name = "outer",
      .label = "{out} = {a} ⊗ {b}",
      .backward = backward,
      .rule = {"grad {a} += grad {out} · {b}", "grad {b} += grad {out}^T · {a}"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_outer{
    {.name = "outer",
     .apply = binary(outer),
     .inputs = {Domain{}, Domain{}},
     .shapes = {{Shape::vector(3), Shape::vector(4)}, {Shape::vector(5), Shape::vector(2)}}}};

Var add_to_columns(Var m, Var v) {
  const Shape& sm = m.shape();
  const Shape& sv = v.shape();
  if (sm.rank == 0 || sv.rank != 1 || sm.rows != sv.rows) {
    throw_shape_error("add_to_columns", sm, sv, "need (r, c) and (r,)");
  }
  Tape& t = m.tape();
  Node& y = t.record(sm, m, v);
  const Tensor& mv = m.value();
  const Tensor& vv = v.value();
  Tensor& yv = y.value();
  for (std::size_t r = 0; r < sm.rows; ++r)
    for (std::size_t c = 0; c < sm.cols; ++c) yv(r, c) = mv(r, c) + vv[r];
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    // dm = g; dv = sum of g over the columns (each column received v)
    accumulate(tape.node(out.a), [&](std::size_t i) { return g[i]; });
    accumulate(tape.node(out.b), [&](std::size_t r) {
      double s = 0.0;
      for (std::size_t c = 0; c < g.cols(); ++c) s += g(r, c);
      return s;
    });
  };
  constexpr auto numbers = [](Tape&, Node& out, int k) -> RuleNumbers {
    const Tensor& g = out.grad();
    if (k == 0) return {"{0}", {g}, g};
    Tensor rows(Shape::vector(g.rows()));
    for (std::size_t r = 0; r < g.rows(); ++r)
      for (std::size_t c = 0; c < g.cols(); ++c) rows[r] += g(r, c);
    return {"sum of the columns of {0}", {g}, rows};
  };
  static constexpr OpDef op{
      .name = "add_to_columns",
      .label = "{out} = {a} + {b} (each column)",
      .backward = backward,
      .rule = {"grad {a} += grad {out}", "grad {b} += sum of the columns of grad {out}"},
      .numbers = numbers,
  };
  return t.commit(op);
}
const RegisterOp register_add_to_columns{
    {.name = "add_to_columns",
     .apply = binary(add_to_columns),
     .inputs = {Domain{}, Domain{}},
     .shapes = {{Shape::matrix(3, 4), Shape::vector(3)}, {Shape::vector(3), Shape::vector(3)}}}};

}  // namespace stepgrad
