// Tensor: dense doubles of rank 0 (scalar), 1 (vector) or 2 (matrix), row-major (but for
// Note [Column-major storage]), and the plain matrix functions that hand-written code (the
// article's delta equations) uses.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace stepgrad {

// Note [Column vectors]
// The article writes vectors as columns: Z1 = W0 · O0 with W0 (128, 784) and O0 (784,).
// A rank-1 tensor of n elements is therefore an n x 1 column whenever it meets a matrix;
// rows() == n and cols() == 1. A minibatch is a matrix whose columns are samples.

/// Shape of a rank 0-2 tensor (see Note [Column vectors]).
struct Shape {
  int rank = 0;
  std::size_t rows = 1;
  std::size_t cols = 1;

  static Shape scalar() { return {0, 1, 1}; }
  static Shape vector(std::size_t n) { return {1, n, 1}; }
  static Shape matrix(std::size_t r, std::size_t c) { return {2, r, c}; }
  std::size_t size() const { return rows * cols; }
  bool operator==(const Shape&) const = default;
};

/// numpy's spelling of a tuple of any length, a shape or an index: "()", "(784,)", "(2, 3, 4)".
/// The one formatter of shapes and indices (npz files, printing, errors, the explorer).
std::string tuple_text(std::span<const std::uint64_t> values);
/// The shape as numpy writes it: "()", "(784,)", "(128, 784)".
std::string to_string(const Shape& s);
/// Flat index -> its place in a tensor of this shape, as numpy writes it: "(r, c)", "(i,)" or "()".
std::string format_index(const Shape& s, std::size_t flat);

/// Thrown when shapes do not fit; the message names the op and both shapes.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Throws ShapeError("op: shapes (a) and (b) do not fit: why").
[[noreturn]] void throw_shape_error(std::string_view op, const Shape& a, const Shape& b,
                                    std::string_view why);

// Note [Aligned storage]
// A tensor's elements start on a 64-byte boundary, so each block of 8 doubles of Note [Sparse
// inputs] (kernels.hpp) is one cache line of W0, not two halves. The allocator goes through
// C++17's aligned operator new (not posix_memalign, as Boost.Align's does), so the tests'
// allocation counter (tests/common/alloc_counter.hpp) sees every tensor allocation.
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t alignment{64};

  CacheLineAllocator() = default;
  template <class U>
  explicit(false) CacheLineAllocator(const CacheLineAllocator<U>& /*other*/) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), alignment)); }
  void deallocate(T* p, std::size_t /*n*/) noexcept { ::operator delete(p, alignment); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>& /*other*/) const noexcept {
    return true;
  }
};

// Note [Column-major storage]
// A matrix's elements normally lie row by row (row-major, numpy's default order 'C'). Stored
// column by column instead (column-major, numpy's order 'F'), W0's column j, the 128 weights that
// pixel j feeds, is one contiguous run. A per-sample step reads and updates W0 only where the
// image is lit (Note [Sparse inputs] in kernels.hpp): row-major, that is an 8-double piece of
// each of W0's 128 rows for every block of 8 pixels holding a lit one (39% of the blocks, so 39%
// of W0); column-major, it is the lit pixels' columns and nothing else (19% of W0), in runs the
// SIMD registers take whole. ColumnMajorW0 (nn/step.hpp) stores W0 so while a training loop runs
// per-sample steps; bench/README.md ("Issue 30") has the measurements.
// set_layout() rearranges the elements in place, in the same memory (a borrowed tensor keeps its
// borrow); the shape and the value of each element (r, c) do not change. The functions that take
// either layout say so: matvec, matvec_transposed, sub_outer, operator==, matmul's A, and the
// tape's matmul and sgd_step. Each computes the same bits either way (Note [Summation order] in
// kernels.hpp), but for the minibatch products that go to OpenBLAS, whose order is its own.
// Everything else (element access, printing, files, the gradient check) expects row-major: a
// tensor is column-major only inside the loop that asked for it. Element access checks that in
// builds with assertions (the sanitizer build). A copy keeps its source's layout; resize() and
// a move's leftover are row-major. Vectors and scalars are always row-major.
enum class Layout : std::uint8_t { row_major, column_major };

// Note [Borrowed tensors]
// A Tensor normally owns its doubles (a vector with Note [Aligned storage]). Tensor::borrow makes
// one over memory that something else owns: a numpy array's, in the Python module
// (python/stepgrad_module.cpp, Note [Tensors and numpy]). Reads and writes go to that memory, so
// each side sees the other's writes. The borrow holds `owner` (any shared_ptr, released when the
// last tensor holding it goes; null when the caller keeps the memory alive longer than the
// tensor) and moves with the tensor.
// Value semantics do not change: copying a Tensor, by construction or assignment, copies its
// values into storage of its own, so a copy of a borrowed tensor owns its values and holds no
// owner, and assigning to a borrowed tensor ends its borrow (the borrowed memory is not written).
// resize() to the same number of elements reshapes a borrowed tensor in place; to any other size
// it throws ShapeError (borrowed memory cannot grow or shrink; copy the tensor first). Borrowed
// memory need only be aligned for double: the kernels load unaligned (kernels_fast.cpp).

class Tensor {
 public:
  Tensor() : data_(1, 0.0), ptr_(data_.data()), size_(1) {}  ///< the scalar 0
  explicit Tensor(const Shape& shape, double fill = 0.0);
  /// Copies own their values (Note [Borrowed tensors]).
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  /// A move takes the values, or the borrow, and leaves `other` empty, of shape (0,).
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(Tensor&& other) noexcept;
  ~Tensor() = default;

  static Tensor scalar(double v) { return Tensor(Shape::scalar(), v); }
  static Tensor zeros(std::size_t n) { return Tensor(Shape::vector(n)); }
  static Tensor zeros(std::size_t rows, std::size_t cols) {
    return Tensor(Shape::matrix(rows, cols));
  }
  static Tensor vector(std::initializer_list<double> values);
  static Tensor vector(std::span<const double> values);
  /// Row by row: Tensor::matrix({{1, 2}, {3, 4}}). All rows must have the same length.
  static Tensor matrix(std::initializer_list<std::initializer_list<double>> rows);
  /// Element (r, c) is f(r, c): Tensor::from_function(2, 3, [](std::size_t r, std::size_t c) {
  /// return 10.0 * r + c; }), numpy's np.fromfunction.
  template <class F>
  static Tensor from_function(std::size_t rows, std::size_t cols, F f) {
    Tensor t(Shape::matrix(rows, cols));
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) t(r, c) = static_cast<double>(f(r, c));
    return t;
  }
  /// Element i of an (n,) vector is f(i).
  template <class F>
  static Tensor from_function(std::size_t n, F f) {
    Tensor t(Shape::vector(n));
    for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<double>(f(i));
    return t;
  }
  /// A tensor over shape.size() row-major doubles at `data`, which it does not own: valid while
  /// `owner` holds them, or while the caller does when `owner` is null (Note [Borrowed tensors]).
  static Tensor borrow(const Shape& shape, double* data, std::shared_ptr<const void> owner = {});

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank; }
  std::size_t rows() const { return shape_.rows; }
  std::size_t cols() const { return shape_.cols; }
  std::size_t size() const { return size_; }
  /// True for a tensor over memory it does not own (Note [Borrowed tensors]).
  bool borrowed() const { return borrowed_; }
  /// How the elements lie in memory (Note [Column-major storage]).
  Layout layout() const { return layout_; }
  /// Rearranges a matrix's elements in place into `layout`; a vector or scalar stays row-major.
  void set_layout(Layout layout);
  /// The elements in row-major order, copied into `out` (size() doubles), in either layout.
  void copy_row_major(std::span<double> out) const;

  /// The elements in memory order: row-major unless set_layout() said otherwise.
  double* data() { return ptr_; }
  const double* data() const { return ptr_; }
  std::span<double> values() { return {ptr_, size_}; }
  std::span<const double> values() const { return {ptr_, size_}; }

  /// Flat (row-major) element access, unchecked (but for the layout, with assertions on).
  double& operator[](std::size_t i) {
    assert(layout_ == Layout::row_major);
    return ptr_[i];
  }
  double operator[](std::size_t i) const {
    assert(layout_ == Layout::row_major);
    return ptr_[i];
  }
  /// Row r, column c, unchecked (but for the layout, with assertions on).
  double& operator()(std::size_t r, std::size_t c) {
    assert(layout_ == Layout::row_major);
    return ptr_[r * shape_.cols + c];
  }
  double operator()(std::size_t r, std::size_t c) const {
    assert(layout_ == Layout::row_major);
    return ptr_[r * shape_.cols + c];
  }

  /// The only value of a one-element tensor; throws ShapeError otherwise.
  double item() const;

  /// Gives the tensor a new shape, keeping its allocation when it is big enough (a reused
  /// tape does not allocate). The values are unspecified afterwards, and row-major. A borrowed
  /// tensor keeps its memory and may only change shape, not size (Note [Borrowed tensors]).
  void resize(const Shape& shape) {
    layout_ = Layout::row_major;
    const std::size_t n = shape.size();
    if (n != size_) {
      if (borrowed_) throw_resize_borrowed(shape);
      data_.resize(n);
      ptr_ = data_.data();
      size_ = n;
    }
    shape_ = shape;
  }
  void fill(double v);

  /// Exact (bitwise for finite values) equality of shape and values, in either layout.
  bool operator==(const Tensor& other) const;

 private:
  [[noreturn]] void throw_resize_borrowed(const Shape& shape) const;
  void become_empty();  // what a move leaves: owning, no values, shape (0,)

  Shape shape_;
  std::vector<double, CacheLineAllocator<double>> data_;  // the values, unless borrowed
  double* ptr_;                                           // data_.data(), or the borrowed memory
  std::size_t size_;                                      // shape_.size()
  std::shared_ptr<const void> owner_;  // what keeps borrowed memory alive (may be null)
  bool borrowed_ = false;
  Layout layout_ = Layout::row_major;  // Note [Column-major storage]
};

// ---- Plain matrix functions: the vocabulary of the hand-derived equations in nn/. ----
// They allocate their result; the tape's ops and the fast paths use the kernels directly.

/// A · B: (m,k)·(k,n) -> (m,n), or (m,k)·(k,) -> (m,). A may be column-major (Note
/// [Column-major storage]).
Tensor matmul(const Tensor& a, const Tensor& b);
/// A^T, as a new tensor. A vector becomes a 1 x n matrix (a row).
Tensor transpose(const Tensor& a);
/// u ⊗ v = u v^T: (m,) and (n,) -> (m, n).
Tensor outer(const Tensor& u, const Tensor& v);
/// Element-wise product a ⊙ b (same shapes).
Tensor hadamard(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(double c, const Tensor& a);
/// a -= c * b, in place (the SGD update W -= lambda · Delta).
void sub_scaled(Tensor& a, double c, const Tensor& b);

// ---- The same products without allocating: a per-sample step's working set. ----

// These three take A and W in either layout (Note [Column-major storage]), with the same bits.

/// out = A · b for A (m, k) and b (k,); out becomes (m,), keeping its allocation.
void matvec(const Tensor& a, const Tensor& b, Tensor& out);
/// out = A^T · b for A (k, m) and b (k,), without forming A^T; out becomes (m,).
void matvec_transposed(const Tensor& a, const Tensor& b, Tensor& out);
/// W -= lr · (u ⊗ v), in place: an SGD step whose gradient is one sample's outer product
/// (Delta = delta ⊗ O, eq. 11), without writing the (m, n) matrix out.
void sub_outer(Tensor& w, double lr, const Tensor& u, const Tensor& v);
/// Whether A's memory holds A^T row-major: A is a column-major matrix (for the kernels' trans_a).
inline bool stored_transposed(const Tensor& a) {
  return a.rank() == 2 && a.layout() == Layout::column_major;
}
/// f applied to each element.
template <class F>
Tensor map(const Tensor& a, F f) {
  Tensor r(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = f(a[i]);
  return r;
}
/// Sum of all elements.
double sum(const Tensor& a);
/// Index of the largest element (the first one on ties), as numpy's argmax.
std::size_t argmax(const Tensor& a);
/// True when every element is finite.
bool all_finite(const Tensor& a);

}  // namespace stepgrad

template <>
struct fmt::formatter<stepgrad::Shape> : fmt::formatter<std::string_view> {
  auto format(const stepgrad::Shape& s, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(stepgrad::to_string(s), ctx);
  }
};
