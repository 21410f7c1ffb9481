// Tensor: shapes, element access, the plain matrix functions, and their shape errors.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/autodiff/tensor.hpp>
#include "common/alloc_counter.hpp"
#include "common/check.hpp"

using namespace stepgrad;

namespace {
// The ShapeError's message, or "" when f does not throw one.
template <class F>
std::string shape_error_of(F f) {
  try {
    f();
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(tensor)

BOOST_AUTO_TEST_CASE(shapes_are_spelled_like_numpy) {
  BOOST_TEST(to_string(Shape::scalar()) == "()");
  BOOST_TEST(to_string(Shape::vector(784)) == "(784,)");
  BOOST_TEST(to_string(Shape::matrix(128, 784)) == "(128, 784)");
  BOOST_TEST(fmt::format("{}", Shape::matrix(2, 3)) == "(2, 3)");
}

BOOST_AUTO_TEST_CASE(indices_and_tuples_are_spelled_like_numpy_by_one_function) {
  BOOST_TEST(format_index(Shape::scalar(), 0) == "()");
  BOOST_TEST(format_index(Shape::vector(784), 5) == "(5,)");
  BOOST_TEST(format_index(Shape::matrix(128, 784), 785) == "(1, 1)");
  const std::array<std::uint64_t, 3> dims{2, 3, 4};
  BOOST_TEST(tuple_text(dims) == "(2, 3, 4)");
  BOOST_TEST(tuple_text(std::span(dims).first(1)) == "(2,)");
  BOOST_TEST(tuple_text({}) == "()");
}

BOOST_AUTO_TEST_CASE(a_vector_is_a_column) {
  const Tensor v = Tensor::vector({1, 2, 3});
  BOOST_TEST(v.rank() == 1);
  BOOST_TEST(v.rows() == 3u);
  BOOST_TEST(v.cols() == 1u);
  BOOST_TEST(Tensor().rank() == 0);
  BOOST_TEST(Tensor().size() == 1u);
  BOOST_TEST(Tensor::scalar(2.5).item() == 2.5);
}

BOOST_AUTO_TEST_CASE(matrices_are_row_major) {
  const Tensor m = Tensor::matrix({{1, 2, 3}, {4, 5, 6}});
  BOOST_TEST(m(1, 0) == 4.0);
  BOOST_TEST(m[1] == 2.0);
  BOOST_TEST(m.size() == 6u);
  BOOST_CHECK_THROW(Tensor::matrix({{1, 2}, {3}}), ShapeError);
}

BOOST_AUTO_TEST_CASE(a_column_major_matrix_holds_the_same_elements_column_by_column) {
  // Note [Column-major storage]: set_layout rearranges in place, in the same memory.
  Tensor a = Tensor::matrix({{1, 2, 3}, {4, 5, 6}});
  const Tensor row_major = a;
  const double* memory = a.data();
  a.set_layout(Layout::column_major);
  BOOST_TEST((a.layout() == Layout::column_major));
  BOOST_TEST(a.data() == memory);
  BOOST_TEST((a.shape() == Shape::matrix(2, 3)));
  const std::vector<double> by_column{1, 4, 2, 5, 3, 6};
  BOOST_TEST(std::vector<double>(a.values().begin(), a.values().end()) == by_column,
             boost::test_tools::per_element());
  BOOST_TEST((a == row_major));  // the same elements, in either layout
  BOOST_TEST((row_major == a));
  Tensor other = a;
  other.values()[1] = 40.0;  // element (1, 0)
  BOOST_TEST(!(other == row_major));
  BOOST_TEST((other.layout() == Layout::column_major));  // a copy keeps the layout
  a.set_layout(Layout::row_major);
  BOOST_TEST(testing::identical(a, row_major));
  BOOST_TEST(a.data() == memory);

  // A borrowed matrix keeps its borrow; the memory it borrows holds the new order.
  std::vector<double> mem{1, 2, 3, 4, 5, 6};
  Tensor b = Tensor::borrow(Shape::matrix(3, 2), mem.data());
  b.set_layout(Layout::column_major);
  BOOST_TEST(b.borrowed());
  BOOST_TEST(mem == (std::vector<double>{1, 3, 5, 2, 4, 6}), boost::test_tools::per_element());
  b.resize(Shape::matrix(2, 3));  // the values are unspecified then, and row-major
  BOOST_TEST((b.layout() == Layout::row_major));

  // Vectors are always row-major; a move's leftover is row-major.
  Tensor v = Tensor::vector({1, 2, 3});
  v.set_layout(Layout::column_major);
  BOOST_TEST((v.layout() == Layout::row_major));
  Tensor c = Tensor::matrix({{1, 2}, {3, 4}});
  c.set_layout(Layout::column_major);
  const Tensor moved = std::move(c);
  BOOST_TEST((moved.layout() == Layout::column_major));
  BOOST_TEST((c.layout() == Layout::row_major));  // NOLINT(bugprone-use-after-move): on purpose
}

BOOST_AUTO_TEST_CASE(set_layout_and_copy_row_major_move_every_element_whatever_the_shape) {
  // Both go tile by tile (16 x 16): shapes smaller than a tile, a tile, and ending mid-tile.
  for (const auto& [rows, cols] :
       {std::array<std::size_t, 2>{1, 1}, {3, 17}, {16, 16}, {37, 50}, {50, 33}, {784, 128}}) {
    BOOST_TEST_CONTEXT(rows << " x " << cols) {
      RandomState rng(static_cast<std::uint32_t>(rows * 1000 + cols));
      const Tensor a = rng.randn(rows, cols);
      Tensor cm = a;
      cm.set_layout(Layout::column_major);
      bool placed = true;  // element (r, c) at c * rows + r
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
          placed = placed && cm.data()[c * rows + r] == a(r, c);
      BOOST_TEST(placed);
      std::vector<double> out(a.size(), 0.0);
      cm.copy_row_major(out);  // W0 written out row-major, its layout unchanged
      BOOST_TEST(std::equal(out.begin(), out.end(), a.data()));
      BOOST_TEST((cm.layout() == Layout::column_major));
      std::fill(out.begin(), out.end(), 0.0);
      a.copy_row_major(out);
      BOOST_TEST(std::equal(out.begin(), out.end(), a.data()));
      BOOST_CHECK_THROW(cm.copy_row_major(std::span<double>(out).first(out.size() - 1)),
                        ShapeError);
      cm.set_layout(Layout::row_major);
      BOOST_TEST(testing::identical(cm, a));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_per_sample_products_and_update_take_either_layout_with_the_same_bits) {
  RandomState rng(3);
  const Tensor w = rng.randn(12, 70);
  Tensor x = Tensor::zeros(70);
  for (std::size_t j = 20; j < 45; j += 3) x[j] = rng.random_sample();
  const Tensor g = Tensor::vector(rng.randn(12, 1).values());
  Tensor cm = w;
  cm.set_layout(Layout::column_major);
  Tensor want, got;
  matvec(w, x, want);
  matvec(cm, x, got);
  BOOST_TEST(testing::identical(got, want));
  matvec_transposed(w, g, want);
  matvec_transposed(cm, g, got);
  BOOST_TEST(testing::identical(got, want));
  Tensor updated = w;
  sub_outer(updated, 0.01, g, x);
  sub_outer(cm, 0.01, g, x);
  BOOST_TEST((cm.layout() == Layout::column_major));
  cm.set_layout(Layout::row_major);
  BOOST_TEST(testing::identical(cm, updated));
}

BOOST_AUTO_TEST_CASE(matmul_takes_a_column_major_a_with_the_same_bits) {
  // A batch of images (B 80% zeros) through a column-major A, as the explorer evaluates its test
  // images through a column-major W0: the bits of the row-major product, but for the products
  // that go to OpenBLAS (when built in), whose order is its own (`big`).
  RandomState rng(4);
  for (auto [m, k, n, big] : {std::array<std::size_t, 4>{12, 70, 13, 0},
                              {10, 64, 5, 0},
                              {7, 61, 1, 0},
                              {128, 784, 9, 1}}) {
    BOOST_TEST_CONTEXT("m=" << m << " k=" << k << " n=" << n) {
      const Tensor a = rng.randn(m, k);
      Tensor b = rng.randn(k, n);
      for (double& v : b.values()) v = rng.random_sample() < 0.8 ? 0.0 : v;
      Tensor cm = a;
      cm.set_layout(Layout::column_major);
      const Tensor want = matmul(a, b);
      const Tensor got = matmul(cm, b);
      if (big == 1 && STEPGRAD_BLAS) {
        BOOST_TEST(testing::close(got, want, 1e-12, 1.0));
      } else {
        BOOST_TEST(testing::identical(got, want));
      }
      const Tensor x = Tensor::vector(std::span<const double>(b.data(), k));  // and a vector
      BOOST_TEST(testing::identical(matmul(cm, x), matmul(a, x)));
      BOOST_TEST((cm.layout() == Layout::column_major));  // read, not rearranged
    }
  }
}

BOOST_AUTO_TEST_CASE(resize_keeps_the_allocation) {
  Tensor t(Shape::matrix(10, 10));
  const double* before = t.data();
  t.resize(Shape::vector(50));
  t.resize(Shape::matrix(10, 10));
  BOOST_TEST(t.data() == before);
  BOOST_TEST(to_string(t.shape()) == "(10, 10)");
}

// Note [Borrowed tensors]: a tensor over memory it does not own (R50 in docs/reliability.md).
BOOST_AUTO_TEST_CASE(a_borrowed_tensor_reads_and_writes_the_memory_it_borrows) {
  std::array<double, 6> memory{1, 2, 3, 4, 5, 6};
  Tensor t = Tensor::borrow(Shape::matrix(2, 3), memory.data());
  BOOST_TEST(t.borrowed());
  BOOST_TEST(t.data() == memory.data());
  BOOST_TEST(t(1, 0) == 4.0);
  t(1, 2) = 60.0;  // the tensor writes into the memory
  BOOST_TEST(memory[5] == 60.0);
  memory[0] = 10.0;  // and sees the memory's writes
  BOOST_TEST(t[0] == 10.0);
  BOOST_TEST(t == Tensor::matrix({{10, 2, 3}, {4, 5, 60}}));
  BOOST_TEST(matmul(t, Tensor::vector({1, 0, 0})) == Tensor::vector({10, 4}));
  t.fill(0.5);
  BOOST_TEST(memory[3] == 0.5);
  BOOST_CHECK_THROW(Tensor::borrow(Shape{1, 3, 2}, memory.data()), ShapeError);
  BOOST_CHECK_THROW(Tensor::borrow(Shape::vector(2), nullptr), std::invalid_argument);
  {
    const stepgrad::testing::AllocationCounter allocations;
    const Tensor v = Tensor::borrow(Shape::vector(6), memory.data());
    BOOST_TEST(sum(v) == 3.0);
    BOOST_TEST(allocations.count() == 0);  // borrowing copies nothing
  }
}

BOOST_AUTO_TEST_CASE(a_copy_of_a_borrowed_tensor_owns_its_values) {
  std::array<double, 3> memory{1, 2, 3};
  Tensor t = Tensor::borrow(Shape::vector(3), memory.data());
  Tensor copy = t;
  BOOST_TEST(!copy.borrowed());
  BOOST_TEST(copy.data() != memory.data());
  BOOST_TEST(copy == t);
  copy[0] = -1.0;
  BOOST_TEST(memory[0] == 1.0);
  Tensor assigned = Tensor::zeros(2, 2);
  assigned = t;
  BOOST_TEST(!assigned.borrowed());
  BOOST_TEST(assigned == Tensor::vector({1, 2, 3}));
  // Assigning to a borrowed tensor ends the borrow; the borrowed memory is not written.
  t = Tensor::vector({7, 8, 9});
  BOOST_TEST(!t.borrowed());
  BOOST_TEST(t == Tensor::vector({7, 8, 9}));
  BOOST_TEST(memory[0] == 1.0);
  Tensor u = Tensor::borrow(Shape::vector(3), memory.data());
  const Tensor other = Tensor::vector({4, 5, 6});
  u = other;  // the same by copy assignment
  BOOST_TEST(!u.borrowed());
  BOOST_TEST(memory[2] == 3.0);
}

BOOST_AUTO_TEST_CASE(a_borrow_holds_its_owner_until_the_last_tensor_that_borrows_goes) {
  auto memory = std::make_shared<std::vector<double>>(std::vector<double>{1, 2, 3, 4});
  const std::weak_ptr<std::vector<double>> watch = memory;
  const double* values = memory->data();
  Tensor copy;
  {
    Tensor t = Tensor::borrow(Shape::vector(4), memory->data(), memory);
    memory.reset();  // the tensor is now the memory's only owner
    BOOST_TEST(!watch.expired());
    Tensor moved = std::move(t);  // the borrow moves with the tensor
    BOOST_TEST(moved.borrowed());
    BOOST_TEST(!t.borrowed());  // NOLINT(bugprone-use-after-move): a moved-from tensor is empty
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(to_string(t.shape()) == "(0,)");
    Tensor assigned;
    assigned = std::move(moved);
    BOOST_TEST(assigned.borrowed());
    BOOST_TEST(!watch.expired());
    assigned[3] = 40.0;
    BOOST_TEST(values[3] == 40.0);
    copy = assigned;  // a copy holds no owner
  }
  BOOST_TEST(watch.expired());                        // released with the last borrowing tensor
  BOOST_TEST(copy == Tensor::vector({1, 2, 3, 40}));  // the copy does not read freed memory
}

BOOST_AUTO_TEST_CASE(a_borrowed_tensor_may_change_its_shape_but_not_its_size) {
  std::array<double, 6> memory{};
  Tensor t = Tensor::borrow(Shape::vector(6), memory.data());
  t.resize(Shape::matrix(2, 3));  // same size: reshaped in place, still borrowed
  BOOST_TEST(t.borrowed());
  BOOST_TEST(t.data() == memory.data());
  t(1, 0) = 3.0;
  BOOST_TEST(memory[3] == 3.0);
  const std::string m = shape_error_of([&t] { t.resize(Shape::vector(7)); });
  BOOST_TEST(m ==
             "resize: this tensor (2, 3) is over borrowed memory of 6 doubles and cannot "
             "become (7,); copy it first");
  BOOST_TEST(to_string(t.shape()) == "(2, 3)");  // unchanged by the refusal
  BOOST_TEST(t.data() == memory.data());
  // An output of the right size is written through; of another size, refused.
  std::array<double, 2> out_memory{};
  Tensor out = Tensor::borrow(Shape::vector(2), out_memory.data());
  matvec(Tensor::matrix({{1, 2}, {3, 4}}), Tensor::vector({1, 1}), out);
  BOOST_TEST(out_memory[1] == 7.0);
  BOOST_CHECK_THROW(matvec(Tensor::zeros(3, 2), Tensor::vector({1, 1}), out), ShapeError);
}

BOOST_AUTO_TEST_CASE(moves_take_the_allocation_and_leave_an_empty_tensor) {
  Tensor a(Shape::matrix(4, 4), 1.0);
  const double* storage = a.data();
  Tensor b = std::move(a);
  BOOST_TEST(b.data() == storage);
  BOOST_TEST(a.size() == 0u);  // NOLINT(bugprone-use-after-move)
  a.resize(Shape::vector(3));  // a moved-from tensor is reusable
  a.fill(2.0);
  BOOST_TEST(a == Tensor::vector({2, 2, 2}));
  Tensor c;
  c = std::move(b);
  BOOST_TEST(c.data() == storage);
  BOOST_TEST(sum(c) == 16.0);
  Tensor d(Shape::matrix(4, 4));
  const double* d_storage = d.data();
  {
    const stepgrad::testing::AllocationCounter allocations;
    d = c;  // a copy into a tensor big enough keeps its allocation
    BOOST_TEST(allocations.count() == 0);
  }
  BOOST_TEST(d.data() == d_storage);
  BOOST_TEST(d == c);
}

BOOST_AUTO_TEST_CASE(matmul_matches_hand_computed_products) {
  const Tensor a = Tensor::matrix({{1, 2}, {3, 4}, {5, 6}});
  BOOST_TEST(testing::identical(matmul(a, Tensor::vector({1, -1})), Tensor::vector({-1, -1, -1})));
  const Tensor b = Tensor::matrix({{1, 0, 2}, {0, 1, 3}});
  BOOST_TEST(testing::identical(matmul(a, b), Tensor::matrix({{1, 2, 8}, {3, 4, 18}, {5, 6, 28}})));
  BOOST_TEST(testing::identical(transpose(a), Tensor::matrix({{1, 3, 5}, {2, 4, 6}})));
  BOOST_TEST(testing::identical(outer(Tensor::vector({1, 2}), Tensor::vector({3, 4, 5})),
                                Tensor::matrix({{3, 4, 5}, {6, 8, 10}})));
}

BOOST_AUTO_TEST_CASE(elementwise_functions_and_reductions) {
  const Tensor a = Tensor::vector({1, -2, 3});
  const Tensor b = Tensor::vector({4, 5, -6});
  BOOST_TEST(testing::identical(hadamard(a, b), Tensor::vector({4, -10, -18})));
  BOOST_TEST(testing::identical(a + b, Tensor::vector({5, 3, -3})));
  BOOST_TEST(testing::identical(a - b, Tensor::vector({-3, -7, 9})));
  BOOST_TEST(testing::identical(2.0 * a, Tensor::vector({2, -4, 6})));
  Tensor w = a;
  sub_scaled(w, 0.5, b);
  BOOST_TEST(testing::identical(w, Tensor::vector({-1, -4.5, 6})));
  BOOST_TEST(sum(a) == 2.0);
  BOOST_TEST(argmax(b) == 1u);
  BOOST_TEST(argmax(Tensor::vector({3, 7, 7})) == 1u);  // first of equal maxima, as numpy
  BOOST_TEST(all_finite(a));
  BOOST_TEST(!all_finite(Tensor::vector({1, std::nan("")})));
}

BOOST_AUTO_TEST_CASE(shape_errors_name_the_op_and_both_shapes) {
  const std::string m = shape_error_of([] { matmul(Tensor::zeros(2, 3), Tensor::zeros(2)); });
  BOOST_TEST(m.find("matmul") != std::string::npos);
  BOOST_TEST(m.find("(2, 3)") != std::string::npos);
  BOOST_TEST(m.find("(2,)") != std::string::npos);
  const std::string h = shape_error_of([] { hadamard(Tensor::zeros(3), Tensor::zeros(4)); });
  BOOST_TEST(h.find("hadamard") != std::string::npos);
  BOOST_TEST(h.find("(3,)") != std::string::npos);
  BOOST_TEST(h.find("(4,)") != std::string::npos);
  BOOST_TEST(!shape_error_of([] { outer(Tensor::zeros(2, 2), Tensor::zeros(2)); }).empty());
  BOOST_TEST(!shape_error_of([] { (void)Tensor::zeros(2).item(); }).empty());
}

BOOST_AUTO_TEST_SUITE_END()
