// Lab 04: an op the engine lacks (docs/labs.md). Write cube(x) = x³, element-wise, as the engine's
// ops are written (docs/architecture.md, "How to add an op", shows leaky_relu): its forward with
// record_map, its backward rule with accumulate, the rule in words with its numbers, and the
// OpDef that commits the node. Then
//   ninja -C build labs/lab_04 && build/labs/lab_04
#include <stepgrad/autodiff/op_helpers.hpp>

#include "labs.hpp"

namespace stepgrad::labs {

Var cube(Var x) {
  // TODO: forward, backward, rule text and numbers, OpDef, commit.
  todo("cube: y = x³ as an op (docs/architecture.md, How to add an op)");
}

}  // namespace stepgrad::labs
