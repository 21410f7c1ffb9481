// Assertions on tensors that explain themselves: on failure, Boost.Test prints the shared
// side-by-side comparison (max |a-b|, max relative error, worst index).
#pragma once

#include <string>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/print.hpp>

namespace stepgrad::testing {

/// True when a and b have one shape, are finite, and their max relative error
/// (Note [Relative error], with `floor`) is at most rtol.
inline boost::test_tools::predicate_result close(const Tensor& a, const Tensor& b, double rtol,
                                                 double floor = 0.0,
                                                 const std::string& name_a = "a",
                                                 const std::string& name_b = "b") {
  if (a.shape() != b.shape()) {
    boost::test_tools::predicate_result r(false);
    r.message() << "shapes differ: " << to_string(a.shape()) << " vs " << to_string(b.shape());
    return r;
  }
  const Comparison c = compare(a, b, floor);
  if (c.finite && c.max_rel <= rtol) return true;
  boost::test_tools::predicate_result r(false);
  r.message() << "max rel " << c.max_rel << " > " << rtol << "\n"
              << format_comparison(name_a, a, name_b, b, floor);
  return r;
}

/// Bit-identical shapes and values.
inline boost::test_tools::predicate_result identical(const Tensor& a, const Tensor& b) {
  if (a == b) return true;
  boost::test_tools::predicate_result r(false);
  r.message() << "tensors differ\n"
              << (a.shape() == b.shape() ? format_comparison("a", a, "b", b)
                                         : std::string("shapes differ"));
  return r;
}

}  // namespace stepgrad::testing
