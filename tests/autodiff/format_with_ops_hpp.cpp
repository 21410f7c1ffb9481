// Compiled with ops.hpp alone: fmt::print("{}", tensor) works with the header a program of
// your own includes for the ops (issue 26; test_print.cpp calls it). If ops.hpp stops bringing
// Tensor's formatter, this file stops compiling.
#include <stepgrad/autodiff/ops.hpp>

namespace stepgrad::testing {
std::string format_with_ops_hpp_only(const Tensor& t);
std::string format_with_ops_hpp_only(const Tensor& t) { return fmt::format("{}", t); }
}  // namespace stepgrad::testing
