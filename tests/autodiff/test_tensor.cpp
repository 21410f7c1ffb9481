// Tensor: shapes, element access, the plain matrix functions, and their shape errors.
#include <array>
#include <cstdint>
#include <span>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/tensor.hpp>
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

BOOST_AUTO_TEST_CASE(resize_keeps_the_allocation) {
  Tensor t(Shape::matrix(10, 10));
  const double* before = t.data();
  t.resize(Shape::vector(50));
  t.resize(Shape::matrix(10, 10));
  BOOST_TEST(t.data() == before);
  BOOST_TEST(to_string(t.shape()) == "(10, 10)");
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
