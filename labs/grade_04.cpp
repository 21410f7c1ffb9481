// lab_04: an op the engine lacks, cube(x) = x³, written in labs/04_cube_op.cpp as the engine's
// ops are (docs/architecture.md, "How to add an op"). Grades its value, its backward rule
// against the engine's mul(mul(x, x), x) and finite differences, its accumulation, and its rule's
// numbers (what --trace prints).
#include <stepgrad/autodiff/op_helpers.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/random.hpp>

#include "grader.hpp"
#include "labs.hpp"

using namespace stepgrad;
using namespace stepgrad::labs;

namespace {

// The planted mistakes: cube with a wrong backward rule, as a learner would write it.
enum class Plant { no_chain, factor, overwrite };
template <Plant P>
Var planted_cube(Var x) {
  record_map(x, [](double v) { return v * v * v; });
  constexpr auto backward = [](Tape& tape, Node& out) {
    const Tensor& g = out.grad();
    Node& in = tape.node(out.a);
    const Tensor& xv = in.value();
    if constexpr (P == Plant::no_chain) {
      accumulate(in, [&](std::size_t i) { return 3.0 * xv[i] * xv[i]; });  // grad out forgotten
    } else if constexpr (P == Plant::factor) {
      accumulate(in, [&](std::size_t i) { return xv[i] * xv[i] * g[i]; });  // the 3 forgotten
    } else {
      Tensor& gx = in.gradient().for_accumulation(xv.shape()).tensor;  // written, not added
      for (std::size_t i = 0; i < gx.size(); ++i) gx[i] = 3.0 * xv[i] * xv[i] * g[i];
    }
  };
  static constexpr OpDef op{.name = "cube", .label = "{out} = cube({a})", .backward = backward};
  return x.tape().commit(op);
}

Var cube_of(const std::string& mistake, Var x) {
  if (mistake == "no_chain") return planted_cube<Plant::no_chain>(x);
  if (mistake == "factor") return planted_cube<Plant::factor>(x);
  if (mistake == "overwrite") return planted_cube<Plant::overwrite>(x);
  return labs::cube(x);  // yours
}

std::vector<Result> run(const Options& o, const std::function<void(Tape&)>& tracer) {
  RandomState rng(2);
  const Tensor X = rng.randn(2, 3), w = rng.randn(2, 3), v = rng.randn(2, 3);
  const std::string& m = o.mistake;
  // The engine's answer, with mul(mul(x, x), x).
  Tape ref;
  const Var rx = ref.variable(X, "x");
  const Var ry = mul(mul(rx, rx), rx);
  ref.backward(dot(ry, ref.input(w, "w")));
  const Tensor right_grad = rx.grad();
  Tape ref2;
  const Var rx2 = ref2.variable(X, "x");
  ref2.backward(
      add(dot(mul(mul(rx2, rx2), rx2), ref2.input(w, "w")), dot(rx2, ref2.input(v, "v"))));
  const Tensor right_grad2 = rx2.grad();

  // C = sum(w ⊙ cube(x)) with your op, and the same plus sum(v ⊙ x): x used twice.
  const auto loss_once = [&](const Tensor& at) {
    Tape t;
    return dot(cube_of(m, t.variable(at, "x")), t.input(w, "w")).value()[0];
  };
  const auto loss_twice = [&](const Tensor& at) {
    Tape t;
    const Var x = t.variable(at, "x");
    return add(dot(cube_of(m, x), t.input(w, "w")), dot(x, t.input(v, "v"))).value()[0];
  };

  Check value{"cube(x)", "its forward", "y = x³ (2, 3)", false, ry.value(), {}, X, {}};
  Check once{"grad x",
             "its backward",
             "grad x += grad y ⊙ 3 x² (2, 3), with grad y = w in C = sum(w ⊙ cube(x))",
             false,
             right_grad,
             loss_once,
             X,
             {{"no_chain", "the rule forgot grad y: it gives 3 x², the chain rule grad y ⊙ 3 x²",
               3.0 * hadamard(X, X)}}};
  Check twice{"grad x, x used twice",
              "Note [Gradient accumulation]",
              "grad x = w ⊙ 3 x² + v, in C = sum(w ⊙ cube(x)) + sum(v ⊙ x)",
              false,
              right_grad2,
              loss_twice,
              X,
              {{"overwrite",
                "the rule wrote x's gradient instead of adding to it, and lost the other use of "
                "x (+ v): use accumulate()",
                hadamard(w, 3.0 * hadamard(X, X))}}};
  Check rule{"rule numbers",
             "Note [Rules as text]",
             "OpDef::numbers gives the contribution grad y ⊙ 3 x², as the backward rule adds it",
             false,
             right_grad,
             {},
             X,
             {}};

  std::vector<Result> results;
  const auto yours_value = [&] {
    Tape t;
    return cube_of(m, t.variable(X, "x")).named("y").value();
  };
  const auto yours_grad = [&](bool twice_used) {
    Tape t;
    if (!twice_used) tracer(t);
    const Var x = t.variable(X, "x");
    const Var y = cube_of(m, x).named("y");
    Var c = dot(y, t.input(w, "w"));
    if (twice_used) c = add(c, dot(x, t.input(v, "v")));
    t.backward(c.named("C"));
    return x.grad();
  };
  const auto yours_rule = [&] {
    Tape t;
    const Var x = t.variable(X, "x");
    const Var y = cube_of(m, x).named("y");
    t.backward(dot(y, t.input(w, "w")));
    const Node& n = y.node();
    if (n.op->rule[0].empty() || n.op->numbers == nullptr) {
      throw std::runtime_error(
          "the op has no rule in words (OpDef::rule) or no numbers (OpDef::numbers)");
    }
    return n.op->numbers(t, y.node(), 0).result;
  };
  if (m.empty()) results.push_back(grade(value, yours_value));
  if (m.empty() || m == "no_chain" || m == "factor")
    results.push_back(grade(once, [&] { return yours_grad(false); }));
  if (m.empty() || m == "overwrite")
    results.push_back(grade(twice, [&] { return yours_grad(true); }));
  if (m.empty()) results.push_back(grade(rule, yours_rule));
  return results;
}

}  // namespace

int main(int argc, char** argv) {
  return lab_main({.name = "lab_04",
                   .file = "labs/04_cube_op.cpp",
                   .about = "an op the engine lacks: cube(x) = x³, forward, backward, rule",
                   .planted = {{"no_chain", "grad x", "accumulate(in, 3 x[i]²)"},
                               {"factor", "grad x", "accumulate(in, x[i]² g[i])"},
                               {"overwrite", "grad x, x used twice", "grad x[i] = 3 x[i]² g[i]"}},
                   .run = run},
                  argc, argv);
}
