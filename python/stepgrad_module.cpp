// The Python module `stepgrad` (docs/python.md): the same engine as the C++ programs, bound with
// pybind11. Only the public API is bound (autodiff/*.hpp, nn/*.hpp, io/mnist.hpp), one Python
// name per C++ name where Python allows it.
//
// Note [Tensors and numpy]: both ways without a copy, in PyTorch's vocabulary.
// - A Tensor exposes its memory through the buffer protocol: `numpy.asarray(t)` and `t.numpy()`
//   are views of the Tensor's doubles (writing into the view writes into the Tensor).
// - `sg.from_numpy(a)` (torch.from_numpy) is a Tensor over the array's own doubles, a borrowed
//   Tensor (Note [Borrowed tensors] in autodiff/tensor.hpp): writes go through both ways, and the
//   Tensor holds a reference to the array, released with the GIL held, so the memory lives as
//   long as the Tensor. Only a float64 (native byte order), C-contiguous, aligned, writeable
//   array of rank 0-2 can be shared; anything else raises TypeError (dtype) or ValueError
//   (layout, rank, read-only), naming what is wrong. `sg.as_tensor(a)` (torch.as_tensor) shares
//   what from_numpy would and copies the rest; `sg.Tensor(a)` (torch.tensor) always copies.
// - A function that takes a Tensor reads an array given in its place as sg.as_tensor(array):
//   shared when it can be, so read-only arguments cost no copy. That is safe because copies own
//   their values: what keeps a tensor (Parameter, Tape.input, Tape.variable) copies it once into
//   its own memory, as it always did. The training loops (TrainingStep.step/train, evaluate)
//   read the rows of X and Y in place too, with the GIL released: do not write into X or Y from
//   another thread meanwhile (numpy's own rule for any reader).
// Parameter.value is a view of the weights (they live as long as their Parameter); Var.value and
// Var.grad are copies, because the tape reuses its nodes' memory after clear().
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stepgrad/autodiff/enum_names.hpp>
#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/autodiff/ops.hpp>
#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/autodiff/tape.hpp>
#include <stepgrad/autodiff/tensor.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/io/npz.hpp>
#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/linear.hpp>
#include <stepgrad/nn/model.hpp>
#include <stepgrad/nn/network.hpp>
#include <stepgrad/nn/step.hpp>

namespace py = pybind11;
using namespace py::literals;

namespace stepgrad {
namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

std::vector<py::ssize_t> numpy_shape(const Shape& s) {
  if (s.rank == 0) return {};
  if (s.rank == 1) return {static_cast<py::ssize_t>(s.rows)};
  return {static_cast<py::ssize_t>(s.rows), static_cast<py::ssize_t>(s.cols)};
}

std::vector<py::ssize_t> numpy_strides(const Shape& s) {
  constexpr auto d = static_cast<py::ssize_t>(sizeof(double));
  if (s.rank == 0) return {};
  if (s.rank == 1) return {d};
  return {static_cast<py::ssize_t>(s.cols) * d, d};
}

// A view of t's doubles that keeps `owner` (the Python object holding t) alive.
py::array view(const Tensor& t, py::handle owner) {
  return py::array(py::dtype::of<double>(), numpy_shape(t.shape()), numpy_strides(t.shape()),
                   t.data(), owner);
}

// A copy of t, owned by numpy.
py::array copy(const Tensor& t) {
  py::array a(py::dtype::of<double>(), numpy_shape(t.shape()), numpy_strides(t.shape()));
  std::memcpy(a.mutable_data(), t.data(), t.size() * sizeof(double));
  return a;
}

Shape shape_of(const py::array& a, const char* what) {
  switch (a.ndim()) {
    case 0:
      return Shape::scalar();
    case 1:
      return Shape::vector(static_cast<std::size_t>(a.shape(0)));
    case 2:
      return Shape::matrix(static_cast<std::size_t>(a.shape(0)),
                           static_cast<std::size_t>(a.shape(1)));
    default:
      throw ShapeError(fmt::format("{}: a Tensor has rank 0, 1 or 2; this array has {} dimensions",
                                   what, a.ndim()));
  }
}

// Note [Tensors and numpy]: sg.Tensor(array), a copy.
Tensor to_tensor(const Array& a) {
  Tensor t(shape_of(a, "Tensor"));
  if (t.size() > 0) std::memcpy(t.data(), a.data(), t.size() * sizeof(double));
  return t;
}

// Why a Tensor cannot share a's memory (Note [Tensors and numpy]), with the exception to raise;
// an empty message when it can.
struct Refusal {
  PyObject* type = nullptr;
  std::string message;
};

std::string tuple_of(const py::ssize_t* values, py::ssize_t n) {
  std::vector<std::uint64_t> v;
  for (py::ssize_t i = 0; i < n; ++i) v.push_back(static_cast<std::uint64_t>(values[i]));
  return tuple_text(v);
}

Refusal refusal(const py::array& a) {
  const std::string copies = "; sg.as_tensor(a) or sg.Tensor(a) copies it";
  if (!py::isinstance<py::array_t<double>>(a)) {
    return {PyExc_TypeError,
            fmt::format("the array's dtype is {}, and a Tensor shares only float64 memory{}",
                        py::str(a.dtype()).cast<std::string>(), copies)};
  }
  if (a.ndim() > 2) {
    return {PyExc_ValueError,
            fmt::format("a Tensor has rank 0, 1 or 2; this array has {} dimensions", a.ndim())};
  }
  if ((a.flags() & py::array::c_style) == 0) {
    return {PyExc_ValueError,
            fmt::format("the array is not C-contiguous (shape {}, strides {}), and a Tensor shares "
                        "only row-major memory{}",
                        tuple_of(a.shape(), a.ndim()), tuple_of(a.strides(), a.ndim()), copies)};
  }
  if ((a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) == 0) {
    return {PyExc_ValueError,
            fmt::format("the array's memory is not aligned for float64{}", copies)};
  }
  if (!a.writeable()) {
    return {PyExc_ValueError,
            fmt::format("the array is read-only, and a Tensor writes into the memory it shares{}",
                        copies)};
  }
  return {};
}

// The reference a borrowed Tensor holds on its array: released with the GIL held, wherever the
// Tensor goes (the module releases the GIL in loops).
std::shared_ptr<const void> hold(const py::array& a) {
  return {a.inc_ref().ptr(), [](const void* p) {
            const py::gil_scoped_acquire gil;
            py::handle(static_cast<PyObject*>(const_cast<void*>(p))).dec_ref();
          }};
}

// A Tensor over a's own doubles; a must pass refusal().
Tensor share(py::array a) {
  return Tensor::borrow(shape_of(a, "from_numpy"), static_cast<double*>(a.mutable_data()), hold(a));
}

// sg.from_numpy(a): shares a's memory, or raises what refusal() says.
Tensor from_numpy(const py::object& obj) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(
        fmt::format("from_numpy: expected a numpy.ndarray, got {}",
                    py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>()));
  }
  const auto a = py::reinterpret_borrow<py::array>(obj);
  const Refusal r = refusal(a);
  if (r.type != nullptr) {
    PyErr_SetString(r.type, ("from_numpy: " + r.message).c_str());
    throw py::error_already_set();
  }
  return share(a);
}

// sg.as_tensor(a), and what a function taking a Tensor does with an array: shares when
// from_numpy would, copies otherwise (lists, other dtypes and layouts, read-only arrays).
Tensor as_tensor(const py::object& obj) {
  if (py::isinstance<py::array>(obj)) {
    const auto a = py::reinterpret_borrow<py::array>(obj);
    if (refusal(a).type == nullptr) return share(a);
  }
  return to_tensor(obj.cast<Array>());
}

// Note [Tensors and numpy]: the conversion pybind11 tries when an array is given for a Tensor
// argument. py::implicitly_convertible<py::array, Tensor> would call sg.Tensor(array), a copy;
// this registers, through the same list pybind11 keeps (detail::type_info's
// implicit_conversions), a conversion that calls as_tensor. nullptr means "not convertible",
// and pybind11 then raises its TypeError naming the accepted types.
PyObject* array_to_tensor(PyObject* obj, PyTypeObject* /*type*/) {
  if (!py::isinstance<py::array>(obj)) return nullptr;
  try {
    return py::cast(as_tensor(py::reinterpret_borrow<py::object>(obj))).release().ptr();
  } catch (const py::error_already_set&) {
    return nullptr;
  } catch (const std::exception&) {
    return nullptr;
  }
}

// Copies a's values into t, which keeps its shape (and its memory, so views of it stay valid).
void assign(Tensor& t, const Array& a, const std::string& what) {
  const Shape s = shape_of(a, what.c_str());
  if (s.size() != t.size() || (s.rank == 2 && (s.rows != t.rows() || s.cols != t.cols()))) {
    throw_shape_error(what, t.shape(), s, "assign needs the same shape");
  }
  if (t.size() > 0) std::memcpy(t.data(), a.data(), t.size() * sizeof(double));
}

std::string format_tensor(const Tensor& t) { return fmt::format("{}", t); }

std::string format_comparison_line(const Comparison& c) {
  return fmt::format("Comparison({}: max abs {:.3e} at {}, max rel {:.3e} at {}{})", c.shape,
                     c.max_abs, format_index(c.shape, c.worst_abs), c.max_rel,
                     format_index(c.shape, c.worst_rel), c.finite ? "" : ", NOT FINITE");
}

// One training sample from the rows of X and Y: a (784,) input and a (10,) one-hot label.
struct Samples {
  const double* x;
  const double* y;
  std::size_t n, x_cols, y_cols;
};

Samples samples_of(const Array& X, const Array& Y) {
  if (X.ndim() != 2 || Y.ndim() != 2 || X.shape(0) != Y.shape(0)) {
    throw ShapeError(
        "X and Y: expected X (n, 784) and one-hot Y (n, 10), one sample per row, with the same n");
  }
  return {X.data(), Y.data(), static_cast<std::size_t>(X.shape(0)),
          static_cast<std::size_t>(X.shape(1)), static_cast<std::size_t>(Y.shape(1))};
}

// Row i of X (or the one sample x): a vector over the array's memory, read in place. The
// array outlives the call that reads it; the tensor only reads (Note [Tensors and numpy]).
Tensor row_of(const double* data, std::size_t i, std::size_t n) {
  return Tensor::borrow(Shape::vector(n), const_cast<double*>(data + i * n));
}

// A TrainingStep (nn/step.hpp), reused from step to step.
class PyTrainingStep {
 public:
  StepResult step(Network& net, const Array& x, const Array& y, Engine engine, Recipe recipe,
                  double lr) {
    if (x.ndim() != 1 || y.ndim() != 1) {
      throw ShapeError("TrainingStep.step: x is one sample (784,), y its one-hot label (10,)");
    }
    const Tensor x_row = row_of(x.data(), 0, static_cast<std::size_t>(x.shape(0)));
    const Tensor y_row = row_of(y.data(), 0, static_cast<std::size_t>(y.shape(0)));
    py::gil_scoped_release release;
    return step_.step(net, x_row, y_row, engine, recipe, lr);
  }

  // Per-sample SGD over the rows of X, Y in order; returns the running mean cost (eq. 7) and
  // accuracy, as the article's training loop prints them.
  std::pair<double, double> train(Network& net, const Array& X, const Array& Y, Engine engine,
                                  Recipe recipe, double lr) {
    const Samples s = samples_of(X, Y);
    if (s.n == 0) return {0.0, 0.0};
    double cost = 0.0;
    std::size_t correct = 0;
    {
      py::gil_scoped_release release;
      const ColumnMajorW0 layout(net, true);  // Note [W0 column by column]
      for (std::size_t i = 0; i < s.n; ++i) {
        const StepResult r =
            step_.step(net, row_of(s.x, i, s.x_cols), row_of(s.y, i, s.y_cols), engine, recipe, lr);
        cost += r.cost_sum;
        correct += r.correct;
      }
    }
    const auto n = static_cast<double>(s.n);
    return {cost / n, static_cast<double>(correct) / n};
  }

 private:
  TrainingStep step_;
};

// The forward pass over the rows of X: mean cost (eq. 7) and accuracy, GIL released.
std::pair<double, double> evaluate_arrays(const Network& net, const Array& X, const Array& Y) {
  const Samples s = samples_of(X, Y);
  if (s.n == 0) return {0.0, 0.0};
  double cost = 0.0;
  std::size_t correct = 0;
  {
    py::gil_scoped_release release;
    for (std::size_t i = 0; i < s.n; ++i) {
      const Tensor x = row_of(s.x, i, s.x_cols);
      const Tensor y = row_of(s.y, i, s.y_cols);
      const ForwardValues a = forward_pass(net, x);
      cost += article_cost(a.O3, y);
      correct += argmax(a.O3) == argmax(y) ? 1U : 0U;
    }
  }
  const auto n = static_cast<double>(s.n);
  return {cost / n, static_cast<double>(correct) / n};
}

// A subset's images as (n, 784) pixel / 255 and its labels as (n,) uint8, copied out.
py::tuple subset_arrays(const Subset& s) {
  const auto n = static_cast<py::ssize_t>(s.size());
  py::array_t<double> images({n, static_cast<py::ssize_t>(kImagePixels)});
  py::array_t<std::uint8_t> labels(n);
  double* out = images.mutable_data();
  std::uint8_t* lab = labels.mutable_data();
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::span<const std::uint8_t> px = s.pixels(i);
    for (std::size_t j = 0; j < kImagePixels; ++j) out[i * kImagePixels + j] = kPixelValue[px[j]];
    lab[i] = s.label(i);
  }
  return py::make_tuple(images, labels);
}

NetworkOptions network_options(std::uint32_t seed, bool bias, const std::string& activation,
                               const std::string& init) {
  NetworkOptions o;
  o.seed = seed;
  o.bias = bias;
  o.activation = parse_enum<Activation>(activation, "activation");
  o.init = parse_enum<InitScale>(init, "init");
  return o;
}

std::string tape_listing(const Tape& tape) {
  std::string out;
  for (std::size_t i = 0; i < tape.size(); ++i) out += fmt::format("{:>3}  {}\n", i, tape.label(i));
  return out;
}

}  // namespace
}  // namespace stepgrad

using namespace stepgrad;

PYBIND11_MODULE(stepgrad, m) {
  m.doc() = "stepgrad: a tape autodiff engine and the article's MNIST network (docs/python.md)";

  // C++ errors become Python exceptions carrying the C++ message: ShapeError (a ValueError),
  // ModelFileError (a RuntimeError); std::invalid_argument is ValueError, other errors
  // RuntimeError (pybind11's translation).
  py::register_exception<ShapeError>(m, "ShapeError", PyExc_ValueError);
  py::register_exception<ModelFileError>(m, "ModelFileError", PyExc_RuntimeError);

  // ---- Tensor -----------------------------------------------------------------------------------
  py::class_<Tensor>(m, "Tensor", py::buffer_protocol(),
                     "rank 0-2, row-major doubles; numpy.asarray(t) is a view (no copy)")
      .def(py::init(&to_tensor), "array"_a,
           "a Tensor holding a copy of the array's values (torch.tensor)")
      .def_buffer([](Tensor& t) {
        return py::buffer_info(t.data(), sizeof(double), py::format_descriptor<double>::format(),
                               t.rank(), numpy_shape(t.shape()), numpy_strides(t.shape()));
      })
      .def(
          "numpy", [](py::object self) { return view(self.cast<Tensor&>(), self); },
          "a view of this tensor's memory (no copy)")
      .def_static(
          "zeros",
          [](std::size_t rows, std::size_t cols) {
            return cols == 0 ? Tensor::zeros(rows) : Tensor::zeros(rows, cols);
          },
          "rows"_a, "cols"_a = 0)
      .def_static("scalar", &Tensor::scalar)
      .def_property_readonly(
          "shape", [](const Tensor& t) { return py::tuple(py::cast(numpy_shape(t.shape()))); })
      .def_property_readonly("rank", &Tensor::rank)
      .def_property_readonly("borrowed", &Tensor::borrowed,
                             "True for a Tensor over an array's memory (from_numpy, as_tensor)")
      .def_property_readonly("size", &Tensor::size)
      .def("item", &Tensor::item)
      .def("__len__", [](const Tensor& t) { return t.rank() == 0 ? 1 : t.rows(); })
      .def("__eq__", [](const Tensor& a, const Tensor& b) { return a == b; })
      .def("__repr__", &format_tensor)
      .def("__str__", &format_tensor);
  // Note [Tensors and numpy]: an array given for a Tensor is shared when it can be (as_tensor);
  // registered first, so it is tried before the copying conversions of lists and floats.
  py::detail::get_type_info(typeid(Tensor))->implicit_conversions.push_back(&array_to_tensor);
  py::implicitly_convertible<py::list, Tensor>();
  py::implicitly_convertible<py::float_, Tensor>();

  m.def("from_numpy", &from_numpy, "array"_a,
        "a Tensor over the array's own memory (torch.from_numpy): float64, C-contiguous, "
        "writeable, rank 0-2; it keeps the array alive, and writes go through both ways");
  m.def(
      "as_tensor",
      [](const py::object& obj) -> py::object {
        if (py::isinstance<Tensor>(obj)) return obj;  // as torch.as_tensor: the same tensor
        return py::cast(as_tensor(obj));
      },
      "data"_a, "from_numpy's Tensor when the array can be shared, else a copy (torch.as_tensor)");
  m.def(
      "show", [](const std::string& name, const Tensor& t) { return show(name, t); }, "name"_a,
      "t"_a, "'name (shape)' and the values, as the tutorials print a tensor");
  m.def("summary", [](const Tensor& t) { return summary(t); });
  m.def("compare", &compare, "a"_a, "b"_a, "floor"_a = 0.0);
  m.def("format_comparison", &format_comparison, "name_a"_a, "a"_a, "name_b"_a, "b"_a,
        "floor"_a = 0.0);
  m.def(
      "set_printoptions",
      [](int precision, std::size_t edgeitems, std::size_t threshold, bool summarise) {
        PrintOptions& o = default_print_options();
        o.precision = precision;
        o.edgeitems = edgeitems;
        o.threshold = threshold;
        o.summarise = summarise;
      },
      "precision"_a = 4, "edgeitems"_a = 3, "threshold"_a = 100, "summarise"_a = true,
      "how tensors print, as numpy's set_printoptions (the tutorials' defaults)");

  py::class_<Comparison>(m, "Comparison")
      .def_readonly("max_abs", &Comparison::max_abs)
      .def_readonly("max_rel", &Comparison::max_rel)
      .def_readonly("finite", &Comparison::finite)
      .def("__repr__", &format_comparison_line);

  py::class_<RandomState>(m, "RandomState", "numpy's legacy generator, bit for bit")
      .def(py::init<std::uint32_t>(), "seed"_a)
      .def("random_sample", &RandomState::random_sample)
      .def("randn",
           [](RandomState& r, std::size_t rows, std::size_t cols) { return r.randn(rows, cols); })
      .def("permutation", &RandomState::permutation);

  // ---- Parameter, Tape, Var ---------------------------------------------------------------------
  py::class_<Parameter>(m, "Parameter", "a tensor the model owns across tapes (W0, W1, W2)")
      .def(py::init([](std::string name, const Tensor& value) {
             return std::make_unique<Parameter>(std::move(name), value);
           }),
           "name"_a, "value"_a)
      .def_readwrite("name", &Parameter::name)
      .def_property(
          "value", [](py::object self) { return view(self.cast<Parameter&>().value, self); },
          [](Parameter& p, const Array& a) { assign(p.value, a, p.name); },
          "a view of the weights (no copy); assigning copies into them")
      .def_property_readonly("grad", [](Parameter& p) { return copy(p.grad()); })
      .def("has_grad", &Parameter::has_grad)
      .def("zero_grad", &Parameter::zero_grad)
      .def("sgd_step", &Parameter::sgd_step, "lr"_a, "eq. (12): value -= lr * grad")
      .def("__repr__",
           [](Parameter& p) { return fmt::format("Parameter {} {}", p.name, p.value.shape()); });

  py::class_<Var>(m, "Var", "a node of a tape: what ops take and return")
      .def_property_readonly("value", [](const Var& v) { return copy(v.value()); })
      .def_property_readonly("grad", [](const Var& v) { return copy(v.grad()); })
      .def_property_readonly(
          "shape", [](const Var& v) { return py::tuple(py::cast(numpy_shape(v.shape()))); })
      .def_property_readonly("index", &Var::index)
      .def_property_readonly("name", [](const Var& v) { return v.tape().name_of(v.index()); })
      .def("named", &Var::named, "name"_a, py::keep_alive<0, 1>())
      .def("item", [](const Var& v) { return v.value().item(); })
      .def("backward", &Var::backward)
      .def(
          "__matmul__", [](Var a, Var b) { return matmul(a, b); }, py::keep_alive<0, 1>())
      .def(
          "__add__", [](Var a, Var b) { return add(a, b); }, py::keep_alive<0, 1>())
      .def(
          "__sub__", [](Var a, Var b) { return sub(a, b); }, py::keep_alive<0, 1>())
      .def(
          "__mul__", [](Var a, Var b) { return mul(a, b); }, py::keep_alive<0, 1>())
      .def(
          "__mul__", [](Var a, double c) { return scale(a, c); }, py::keep_alive<0, 1>())
      .def(
          "__rmul__", [](Var a, double c) { return scale(a, c); }, py::keep_alive<0, 1>())
      .def(
          "__rsub__", [](Var a, double c) { return rsub(c, a); }, py::keep_alive<0, 1>())
      .def(
          "__neg__", [](Var a) { return neg(a); }, py::keep_alive<0, 1>())
      .def("__repr__", [](const Var& v) { return v.tape().label(v.index()); });

  py::class_<Tape>(m, "Tape", "the Wengert list: ops append nodes, backward() sweeps it once")
      .def(py::init<>())
      .def("input", &Tape::input, "value"_a, "name"_a = "", py::keep_alive<0, 1>(),
           "a leaf that is never differentiated (O0, Y)")
      .def("variable", &Tape::variable, "value"_a, "name"_a = "", py::keep_alive<0, 1>(),
           "a leaf with a gradient")
      .def("param", &Tape::param, "p"_a, py::keep_alive<0, 1>(), py::keep_alive<1, 2>(),
           "a leaf pointing to a Parameter (no copy); backward accumulates into its grad")
      .def("backward", py::overload_cast<Var, double>(&Tape::backward), "loss"_a, "seed"_a = 1.0,
           "one sweep; a second over the same recording, while the leaves hold the first's "
           "gradients, is refused (R46)")
      .def("backward_accumulating", &Tape::backward_accumulating, "loss"_a, "seed"_a = 1.0,
           "a sweep that adds to the gradients on purpose (PyTorch's retain_graph=True)")
      .def("clear", &Tape::clear)
      .def("zero_grad", &Tape::zero_grad)
      .def("__len__", &Tape::size)
      .def(
          "__getitem__",
          [](Tape& t, std::size_t i) {
            if (i >= t.size())
              throw py::index_error(fmt::format("node {} of a tape of {}", i, t.size()));
            return t.var(i);
          },
          py::keep_alive<0, 1>())
      .def("label", &Tape::label)
      .def("rule", &Tape::rule, "i"_a, "k"_a = 0)
      .def(
          "explain_backward", [](Tape& t, std::size_t i) { return explain_backward(t, i); },
          "what node i's backward step adds, with its numbers (--trace)")
      .def("parameters", &Tape::parameters, py::return_value_policy::reference)
      .def("__repr__", &tape_listing);

  m.def("sgd_step", py::overload_cast<const std::vector<Parameter*>&, double>(&sgd_step),
        "params"_a, "lr"_a, "eq. (12) for each parameter, then its gradient is emptied");
  m.def("zero_grad", py::overload_cast<const std::vector<Parameter*>&>(&zero_grad), "params"_a);

  py::class_<Linear>(m, "Linear", "a layer with a bias: Z = W · O + b (nn/linear.hpp)")
      .def(
          py::init([](std::size_t in, std::size_t out, RandomState& rng, const std::string& index) {
            return std::make_unique<Linear>(in, out, rng, index);
          }),
          "n_in"_a, "n_out"_a, "rng"_a, "index"_a = "")
      .def_property_readonly(
          "W", [](Linear& l) -> Parameter& { return l.W; },
          py::return_value_policy::reference_internal)
      .def_property_readonly(
          "b", [](Linear& l) -> Parameter& { return l.b; },
          py::return_value_policy::reference_internal)
      .def("parameters", &Linear::parameters, py::return_value_policy::reference_internal)
      .def("__call__", &Linear::operator(), "O"_a, py::keep_alive<0, 2>(), py::keep_alive<2, 1>());

  // ---- the ops (autodiff/ops.hpp) ---------------------------------------------------------------
  const auto ka = py::keep_alive<0, 1>();
  m.def("matmul", py::overload_cast<Var, Var>(&matmul), ka);
  m.def("add", &add, ka);
  m.def("sub", &sub, ka);
  m.def("mul", &mul, ka);
  m.def("scale", &scale, ka);
  m.def("neg", &neg, ka);
  m.def(
      "rsub", [](double c, Var x) { return rsub(c, x); }, py::keep_alive<0, 2>());
  m.def("sum", py::overload_cast<Var>(&sum), ka);
  m.def("dot", &dot, ka);
  m.def("outer", py::overload_cast<Var, Var>(&outer), ka);
  m.def("add_to_columns", &add_to_columns, ka);
  m.def("exp", py::overload_cast<Var>(&stepgrad::exp), ka);
  m.def("log", py::overload_cast<Var>(&stepgrad::log), ka);
  m.def("sigmoid", py::overload_cast<Var>(&sigmoid), ka);
  m.def("tanh", py::overload_cast<Var>(&stepgrad::tanh), ka);
  m.def("relu", py::overload_cast<Var>(&relu), ka);
  m.def("softmax", py::overload_cast<Var>(&softmax), ka);
  m.def("log_softmax", py::overload_cast<Var>(&log_softmax), ka);
  m.def("binary_cross_entropy", &binary_cross_entropy, ka);
  m.def("cross_entropy_logits", &cross_entropy_logits, ka);

  // ---- gradient check (autodiff/gradcheck.hpp) --------------------------------------------------
  py::class_<GradCheckReport>(m, "GradCheckReport")
      .def_readonly("name", &GradCheckReport::name)
      .def_readonly("passed", &GradCheckReport::passed)
      .def_readonly("resolution", &GradCheckReport::resolution)
      .def_readonly("cmp", &GradCheckReport::cmp)
      .def_property_readonly("max_rel", [](const GradCheckReport& r) { return r.cmp.max_rel; })
      .def_property_readonly("max_abs", [](const GradCheckReport& r) { return r.cmp.max_abs; })
      .def_property_readonly("analytic", [](const GradCheckReport& r) { return copy(r.analytic); })
      .def_property_readonly("numeric", [](const GradCheckReport& r) { return copy(r.numeric); })
      .def_readonly("checked", &GradCheckReport::checked)
      .def("__repr__", &format_report);
  m.def(
      "gradcheck",
      [](const std::vector<Parameter*>& params, const py::function& loss, double h, double rtol,
         std::size_t max_elements) {
        GradCheckOptions o;
        o.h = h;
        o.rtol = rtol;
        o.max_elements = max_elements;
        // loss(tape) -> Var, called with the C++ tape itself (a Tape is not copied)
        const TapeLossFn loss_of = [&loss](Tape& tape) {
          return loss(py::cast(&tape, py::return_value_policy::reference)).cast<Var>();
        };
        return gradcheck(params, loss_of, o);
      },
      "params"_a, "loss"_a, "h"_a = 1e-3, "rtol"_a = 1e-7, "max_elements"_a = 0,
      "each parameter's tape gradient of loss(tape) against central finite differences");

  // ---- the article's network (nn/) --------------------------------------------------------------
  py::class_<Network>(m, "Network", "the article's 784-128-64-10 network, nn_init after seed")
      .def(py::init([](std::uint32_t seed, bool bias, const std::string& activation,
                       const std::string& init) {
             return std::make_unique<Network>(network_options(seed, bias, activation, init));
           }),
           "seed"_a = 42, "bias"_a = false, "activation"_a = "sigmoid", "init"_a = "fan-out")
      .def_property_readonly(
          "W0", [](Network& n) -> Parameter& { return n.W0; },
          py::return_value_policy::reference_internal)
      .def_property_readonly(
          "W1", [](Network& n) -> Parameter& { return n.W1; },
          py::return_value_policy::reference_internal)
      .def_property_readonly(
          "W2", [](Network& n) -> Parameter& { return n.W2; },
          py::return_value_policy::reference_internal)
      .def("weight", py::overload_cast<std::size_t>(&Network::weight),
           py::return_value_policy::reference_internal)
      .def("parameters", py::overload_cast<>(&Network::parameters),
           py::return_value_policy::reference_internal)
      .def("zero_grad", &Network::zero_grad)
      .def("parameter_count", &Network::parameter_count)
      .def_property_readonly("options", [](const Network& n) { return n.options().describe(); })
      .def("__repr__", [](const Network& n) {
        return fmt::format("Network 784-128-64-10, {}", n.options().describe());
      });

  py::class_<TapeForward>(m, "TapeForward",
                          "the Vars record_forward appends: eqs. (1)-(4), C, cost")
      .def_readonly("O0", &TapeForward::O0)
      .def_readonly("Z1", &TapeForward::Z1)
      .def_readonly("O1", &TapeForward::O1)
      .def_readonly("Z2", &TapeForward::Z2)
      .def_readonly("O2", &TapeForward::O2)
      .def_readonly("Z3", &TapeForward::Z3)
      .def_readonly("O3", &TapeForward::O3)
      .def_readonly("Y", &TapeForward::Y)
      .def_readonly("C", &TapeForward::C)
      .def_readonly("cost", &TapeForward::cost);
  m.def("record_forward", &record_forward, "tape"_a, "net"_a, "x"_a, "y"_a, py::keep_alive<0, 1>(),
        py::keep_alive<1, 2>(), "eqs. (1)-(4) and both costs on the tape");
  m.def("tape_gradients", &tape_gradients, "tape"_a, "net"_a, "x"_a, "y"_a, py::keep_alive<0, 1>(),
        py::keep_alive<1, 2>(),
        "record_forward, then backward(C): the tape's dC/dW in net.W0.grad ...");

  py::class_<ForwardValues>(m, "ForwardValues", "forward_pass's values: O0, Z1, O1, ... O3")
      .def_readonly("O0", &ForwardValues::O0)
      .def_readonly("Z1", &ForwardValues::Z1)
      .def_readonly("O1", &ForwardValues::O1)
      .def_readonly("Z2", &ForwardValues::Z2)
      .def_readonly("O2", &ForwardValues::O2)
      .def_readonly("Z3", &ForwardValues::Z3)
      .def_readonly("O3", &ForwardValues::O3);
  py::class_<Deltas>(m, "Deltas", "backward_pass's deltas, eqs. (8)-(11)")
      .def_readonly("delta3", &Deltas::delta3)
      .def_readonly("delta2", &Deltas::delta2)
      .def_readonly("delta1", &Deltas::delta1)
      .def_readonly("Delta2", &Deltas::Delta2)
      .def_readonly("Delta1", &Deltas::Delta1)
      .def_readonly("Delta0", &Deltas::Delta0);

  const auto parse_recipe = [](const std::string& r) { return parse_enum<Recipe>(r, "recipe"); };
  const auto parse_engine = [](const std::string& e) { return parse_enum<Engine>(e, "engine"); };
  m.def("forward_pass", &forward_pass, "net"_a, "x"_a, "eqs. (1)-(4) on plain tensors");
  m.def(
      "backward_pass",
      [parse_recipe](const Network& net, const ForwardValues& a, const Tensor& y,
                     const std::string& recipe) {
        return backward_pass(net, a, y, parse_recipe(recipe));
      },
      "net"_a, "a"_a, "y"_a, "recipe"_a = "fixed",
      "eqs. (8)-(11); recipe 'article' has erratum E1, 'fixed' the general rule");
  m.def("apply_deltas", &apply_deltas, "net"_a, "d"_a, "lr"_a = 0.001, "eq. (12)");
  m.def("article_cost", &article_cost, "O3"_a, "y"_a, "eq. (7)");
  m.def("cross_entropy", &cross_entropy, "Z3"_a, "y"_a, "-Y · log softmax(Z3)");

  py::class_<GradientAgreement>(m, "GradientAgreement")
      .def_readonly("name", &GradientAgreement::name)
      .def_readonly("delta_name", &GradientAgreement::delta_name)
      .def_readonly("tape_vs_deltas", &GradientAgreement::tape_vs_deltas)
      .def_readonly("tape_vs_numeric", &GradientAgreement::tape_vs_numeric);
  py::class_<CrossCheck>(m, "CrossCheck", "the three-way check: tape, deltas, finite differences")
      .def_readonly("loss", &CrossCheck::loss)
      .def_readonly("parameters", &CrossCheck::parameters)
      .def("passed", &CrossCheck::passed, "rtol_deltas"_a = 1e-12)
      .def("__repr__", [](const CrossCheck& c) {
        std::string out = fmt::format("C = {:.6f}\n", c.loss);
        for (const GradientAgreement& g : c.parameters) {
          out += fmt::format(
              "{:<3} tape vs {:<7} max rel {:.1e}   tape vs finite diff. max rel {:.1e}{}\n",
              g.name, g.delta_name, g.tape_vs_deltas.max_rel, g.tape_vs_numeric.cmp.max_rel,
              g.tape_vs_numeric.passed ? "" : "  FAILED");
        }
        return out + (c.passed() ? "-> all three agree" : "-> DISAGREEMENT");
      });
  m.def(
      "cross_check",
      [](Network& net, const Tensor& x, const Tensor& y, std::size_t max_elements) {
        py::gil_scoped_release release;  // finite differences of W0 take seconds
        return cross_check(net, x, y, max_elements);
      },
      "net"_a, "x"_a, "y"_a, "max_elements"_a = 0,
      "tape vs the fixed recipe's deltas vs finite differences (0: every element)");

  py::class_<DeltaDistortion>(m, "DeltaDistortion")
      .def_readonly("name", &DeltaDistortion::name)
      .def_readonly("norm_ratio", &DeltaDistortion::norm_ratio)
      .def_readonly("cosine", &DeltaDistortion::cosine)
      .def_readonly("cmp", &DeltaDistortion::cmp)
      .def("__repr__", [](const DeltaDistortion& d) {
        return fmt::format("{}: norm ratio {:.4f}, cosine {:.4f}", d.name, d.norm_ratio, d.cosine);
      });
  m.def("measure_erratum_e1", &measure_erratum_e1, "net"_a, "x"_a, "y"_a,
        "the article's Delta against the true one, per layer");
  m.def("format_erratum_e1", &format_erratum_e1, "ds"_a);

  py::class_<StepResult>(m, "StepResult")
      .def_readonly("cost", &StepResult::cost_sum)
      .def_readonly("correct", &StepResult::correct)
      .def("__repr__", [](const StepResult& r) {
        return fmt::format("StepResult(cost={:.6f}, correct={})", r.cost_sum, r.correct);
      });
  py::class_<PyTrainingStep>(m, "TrainingStep", "one SGD step (eq. 12) on either engine")
      .def(py::init<>())
      .def(
          "step",
          [parse_engine, parse_recipe](PyTrainingStep& s, Network& net, const Array& x,
                                       const Array& y, const std::string& engine,
                                       const std::string& recipe, double lr) {
            return s.step(net, x, y, parse_engine(engine), parse_recipe(recipe), lr);
          },
          "net"_a, "x"_a, "y"_a, "engine"_a = "tape", "recipe"_a = "fixed", "lr"_a = 0.001,
          "one sample: forward, backward, update; the sample's cost (eq. 7) and 1 if right")
      .def(
          "train",
          [parse_engine, parse_recipe](PyTrainingStep& s, Network& net, const Array& X,
                                       const Array& Y, const std::string& engine,
                                       const std::string& recipe, double lr) {
            return s.train(net, X, Y, parse_engine(engine), parse_recipe(recipe), lr);
          },
          "net"_a, "X"_a, "Y"_a, "engine"_a = "tape", "recipe"_a = "fixed", "lr"_a = 0.001,
          "one epoch of per-sample SGD over the rows of X, Y (GIL released): (mean cost, "
          "accuracy)");
  m.def("evaluate", &evaluate_arrays, "net"_a, "X"_a, "Y"_a,
        "mean cost (eq. 7) and accuracy over the rows of X, Y (GIL released)");

  // ---- files ------------------------------------------------------------------------------------
  m.def(
      "save_model",
      [](const std::string& path, const Network& net, const std::string& options) {
        // The file's options line always names the network's options (load_model rebuilds the
        // network from them); they are appended when `options` leaves them out.
        const std::string net_options = net.options().describe();
        std::string line = options;
        if (line.find(net_options) == std::string::npos) {
          line += (line.empty() ? "" : " ") + net_options;
        }
        save_model(path, net, line);
      },
      "path"_a, "net"_a, "options"_a = "",
      "the .npz 10_train writes: W0-W2 and the options line ('recipe=fixed ...' and the "
      "network's options)");
  m.def(
      "load_model",
      [](const std::string& path) {
        Model model = load_model(path);
        return py::make_tuple(std::make_unique<Network>(std::move(model.network)), model.options);
      },
      "path"_a, "a model file 10_train (or save_model) wrote: (Network, options line)");
  m.def(
      "load_mnist",
      [](const std::string& dir, const std::string& split, std::size_t limit) {
        const Split s = load_split(dir, parse_enum<SplitKind>(split, "split"), limit);
        py::tuple train = subset_arrays(s.train);
        py::tuple test = subset_arrays(s.test);
        return py::make_tuple(train[0], train[1], test[0], test[1]);
      },
      "dir"_a, "split"_a = "article", "limit"_a = 0,
      "MNIST's IDX files: (x_train (n, 784) pixel/255, labels (n,), x_test, labels)");
}
