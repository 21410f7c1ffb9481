// Tensor storage, shape errors and the plain matrix functions.
#include <stepgrad/autodiff/tensor.hpp>

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/ranges.h>

#include <stepgrad/autodiff/kernels.hpp>

namespace stepgrad {

std::string tuple_text(std::span<const std::uint64_t> values) {
  if (values.size() == 1) return fmt::format("({},)", values[0]);
  return fmt::format("({})", fmt::join(values, ", "));
}

std::string to_string(const Shape& s) {
  const std::array<std::uint64_t, 2> dims{s.rows, s.cols};
  return tuple_text(std::span(dims).first(static_cast<std::size_t>(s.rank)));
}

std::string format_index(const Shape& s, std::size_t flat) {
  const std::array<std::uint64_t, 2> index{s.rank == 2 ? flat / s.cols : flat,
                                           s.rank == 2 ? flat % s.cols : 0};
  return tuple_text(std::span(index).first(static_cast<std::size_t>(s.rank)));
}

void throw_shape_error(std::string_view op, const Shape& a, const Shape& b, std::string_view why) {
  throw ShapeError(fmt::format("{}: shapes {} and {} do not fit: {}", op, a, b, why));
}

namespace {
void check_shape(const Shape& shape) {
  if (shape.rank < 0 || shape.rank > 2 || (shape.rank == 0 && shape.size() != 1) ||
      (shape.rank == 1 && shape.cols != 1)) {
    throw ShapeError(
        fmt::format("Tensor: invalid shape rank {} ({} x {})", shape.rank, shape.rows, shape.cols));
  }
}

// dst (cols x rows) = src (rows x cols)^T, both row-major, in square tiles, so that the cache
// lines a tile reads and writes stay in L1 while it is copied (W0 is 784 KiB).
void transpose_into(const double* src, std::size_t rows, std::size_t cols, double* dst) {
  constexpr std::size_t kTile = 16;
  for (std::size_t r0 = 0; r0 < rows; r0 += kTile) {
    const std::size_t r1 = std::min(rows, r0 + kTile);
    for (std::size_t c0 = 0; c0 < cols; c0 += kTile) {
      const std::size_t c1 = std::min(cols, c0 + kTile);
      for (std::size_t r = r0; r < r1; ++r) {
        for (std::size_t c = c0; c < c1; ++c) dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
}

// Where element (r, c) of a matrix of shape s lies in memory in `layout` (Note [Column-major
// storage]).
std::size_t offset(Layout layout, const Shape& s, std::size_t r, std::size_t c) {
  return layout == Layout::column_major ? c * s.rows + r : r * s.cols + c;
}
}  // namespace

Tensor::Tensor(const Shape& shape, double fill)
    : shape_(shape), data_(shape.size(), fill), ptr_(data_.data()), size_(data_.size()) {
  check_shape(shape);
}

// Note [Borrowed tensors]: a copy owns its values, whether `other` owns or borrows them.
Tensor::Tensor(const Tensor& other)
    : shape_(other.shape_),
      data_(other.ptr_, other.ptr_ + other.size_),
      ptr_(data_.data()),
      size_(other.size_),
      layout_(other.layout_) {}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this == &other) return *this;
  if (borrowed_) {  // the borrow ends; its memory is not written
    owner_.reset();
    borrowed_ = false;
  }
  data_.assign(other.ptr_, other.ptr_ + other.size_);  // keeps the allocation when big enough
  shape_ = other.shape_;
  ptr_ = data_.data();
  size_ = other.size_;
  layout_ = other.layout_;
  return *this;
}

Tensor::Tensor(Tensor&& other) noexcept
    : shape_(other.shape_),
      data_(std::move(other.data_)),
      ptr_(other.borrowed_ ? other.ptr_ : data_.data()),
      size_(other.size_),
      owner_(std::move(other.owner_)),
      borrowed_(other.borrowed_),
      layout_(other.layout_) {
  other.become_empty();
}

Tensor& Tensor::operator=(Tensor&& other) noexcept {
  if (this == &other) return *this;
  shape_ = other.shape_;
  data_ = std::move(other.data_);
  ptr_ = other.borrowed_ ? other.ptr_ : data_.data();
  size_ = other.size_;
  owner_ = std::move(other.owner_);
  borrowed_ = other.borrowed_;
  layout_ = other.layout_;
  other.become_empty();
  return *this;
}

void Tensor::become_empty() {
  data_.clear();
  shape_ = Shape::vector(0);
  ptr_ = data_.data();
  size_ = 0;
  owner_.reset();
  borrowed_ = false;
  layout_ = Layout::row_major;
}

void Tensor::set_layout(Layout layout) {
  if (rank() < 2 || layout == layout_) return;
  const std::vector<double> old(ptr_, ptr_ + size_);
  // Row-major, the memory holds A (rows x cols); column-major, A^T (cols x rows).
  if (layout == Layout::column_major) {
    transpose_into(old.data(), shape_.rows, shape_.cols, ptr_);
  } else {
    transpose_into(old.data(), shape_.cols, shape_.rows, ptr_);
  }
  layout_ = layout;
}

void Tensor::copy_row_major(std::span<double> out) const {
  if (out.size() != size_) {
    throw ShapeError(fmt::format("copy_row_major: {} values do not fit {} doubles",
                                 to_string(shape_), out.size()));
  }
  if (layout_ == Layout::row_major) {
    std::copy(ptr_, ptr_ + size_, out.data());
  } else {
    transpose_into(ptr_, shape_.cols, shape_.rows, out.data());
  }
}

bool Tensor::operator==(const Tensor& other) const {
  if (shape_ != other.shape_) return false;
  if (layout_ == other.layout_) return std::equal(ptr_, ptr_ + size_, other.ptr_);
  for (std::size_t r = 0; r < shape_.rows; ++r) {
    for (std::size_t c = 0; c < shape_.cols; ++c) {
      if (ptr_[offset(layout_, shape_, r, c)] != other.ptr_[offset(other.layout_, shape_, r, c)]) {
        return false;
      }
    }
  }
  return true;
}

Tensor Tensor::borrow(const Shape& shape, double* data, std::shared_ptr<const void> owner) {
  check_shape(shape);
  if (data == nullptr && shape.size() > 0) {
    throw std::invalid_argument("Tensor::borrow: no memory (a null pointer) for " +
                                to_string(shape));
  }
  Tensor t(Shape::vector(0));  // allocates nothing
  t.shape_ = shape;
  t.ptr_ = data;
  t.size_ = shape.size();
  t.owner_ = std::move(owner);
  t.borrowed_ = true;
  return t;
}

void Tensor::throw_resize_borrowed(const Shape& shape) const {
  throw ShapeError(fmt::format(
      "resize: this tensor {} is over borrowed memory of {} doubles and cannot become {}; "
      "copy it first",
      shape_, size_, shape));
}

Tensor Tensor::vector(std::initializer_list<double> values) {
  return vector(std::span<const double>(values.begin(), values.size()));
}

Tensor Tensor::vector(std::span<const double> values) {
  Tensor t(Shape::vector(values.size()));
  std::copy(values.begin(), values.end(), t.ptr_);
  return t;
}

Tensor Tensor::matrix(std::initializer_list<std::initializer_list<double>> rows) {
  const std::size_t cols = rows.size() == 0 ? 0 : rows.begin()->size();
  Tensor t(Shape::matrix(rows.size(), cols));
  std::size_t r = 0;
  for (const auto& row : rows) {
    if (row.size() != cols) {
      throw ShapeError(
          fmt::format("Tensor::matrix: row {} has {} values, row 0 has {}", r, row.size(), cols));
    }
    std::copy(row.begin(), row.end(), t.ptr_ + r * cols);
    ++r;
  }
  return t;
}

double Tensor::item() const {
  if (size() != 1)
    throw ShapeError(
        fmt::format("item: tensor of shape {} has {} elements, not 1", shape_, size()));
  return ptr_[0];
}

void Tensor::fill(double v) { std::fill(ptr_, ptr_ + size_, v); }

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.rank() != 2 || b.rank() == 0 || a.cols() != b.rows()) {
    throw_shape_error("matmul", a.shape(), b.shape(), "need (m, k) · (k, n) or (m, k) · (k,)");
  }
  Tensor r(b.rank() == 1 ? Shape::vector(a.rows()) : Shape::matrix(a.rows(), b.cols()));
  kernels::gemm(stored_transposed(a), false, a.rows(), b.cols(), a.cols(), a.data(), b.data(), 0.0,
                r.data());
  return r;
}

Tensor transpose(const Tensor& a) {
  Tensor r(Shape::matrix(a.cols(), a.rows()));
  for (std::size_t i = 0; i < a.rows(); ++i)
    for (std::size_t j = 0; j < a.cols(); ++j) r(j, i) = a(i, j);
  return r;
}

Tensor outer(const Tensor& u, const Tensor& v) {
  if (u.rank() != 1 || v.rank() != 1) {
    throw_shape_error("outer", u.shape(), v.shape(), "need two vectors");
  }
  Tensor r(Shape::matrix(u.size(), v.size()));
  kernels::outer(u.size(), v.size(), 1.0, u.data(), v.data(), 0.0, r.data());
  return r;
}

namespace {
void require_same(std::string_view op, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) throw_shape_error(op, a.shape(), b.shape(), "need equal shapes");
}
}  // namespace

Tensor hadamard(const Tensor& a, const Tensor& b) {
  require_same("hadamard", a, b);
  Tensor r(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] * b[i];
  return r;
}

Tensor operator+(const Tensor& a, const Tensor& b) {
  require_same("add", a, b);
  Tensor r(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] + b[i];
  return r;
}

Tensor operator-(const Tensor& a, const Tensor& b) {
  require_same("sub", a, b);
  Tensor r(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] - b[i];
  return r;
}

Tensor operator*(double c, const Tensor& a) {
  Tensor r(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = c * a[i];
  return r;
}

void sub_scaled(Tensor& a, double c, const Tensor& b) {
  require_same("sub_scaled", a, b);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] -= c * b[i];
}

void matvec(const Tensor& a, const Tensor& b, Tensor& out) {
  if (a.rank() != 2 || b.rank() != 1 || a.cols() != b.rows()) {
    throw_shape_error("matvec", a.shape(), b.shape(), "need (m, k) · (k,)");
  }
  out.resize(Shape::vector(a.rows()));
  kernels::gemm(stored_transposed(a), false, a.rows(), 1, a.cols(), a.data(), b.data(), 0.0,
                out.data());
}

void matvec_transposed(const Tensor& a, const Tensor& b, Tensor& out) {
  if (a.rank() != 2 || b.rank() != 1 || a.rows() != b.rows()) {
    throw_shape_error("matvec_transposed", a.shape(), b.shape(), "need (k, m)^T · (k,)");
  }
  out.resize(Shape::vector(a.cols()));
  kernels::gemm(!stored_transposed(a), false, a.cols(), 1, a.rows(), a.data(), b.data(), 0.0,
                out.data());
}

void sub_outer(Tensor& w, double lr, const Tensor& u, const Tensor& v) {
  if (u.rank() != 1 || v.rank() != 1 || w.shape() != Shape::matrix(u.size(), v.size())) {
    throw_shape_error("sub_outer", w.shape(), Shape::matrix(u.size(), v.size()),
                      "W must be (u.size(), v.size())");
  }
  if (stored_transposed(w)) {  // W^T -= lr · (v ⊗ u): the same products, v[j] · u[i] == u[i] · v[j]
    kernels::sub_outer(w.cols(), w.rows(), lr, v.data(), u.data(), w.data());
  } else {
    kernels::sub_outer(w.rows(), w.cols(), lr, u.data(), v.data(), w.data());
  }
}

double sum(const Tensor& a) {
  double s = 0.0;
  for (double v : a.values()) s += v;
  return s;
}

std::size_t argmax(const Tensor& a) {
  const auto v = a.values();
  return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

bool all_finite(const Tensor& a) {
  return std::all_of(a.values().begin(), a.values().end(),
                     [](double v) { return std::isfinite(v); });
}

}  // namespace stepgrad
