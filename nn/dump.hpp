// The gradient dump: one sample, the weights and the tape's gradients in an .npz file that
// numpy.load opens, so that anyone can redo the cross-check outside stepgrad
// (tests/scripts/check_dump.py does it with numpy; 09_gradcheck --dump writes one).
#pragma once

#include <filesystem>
#include <vector>

#include <stepgrad/io/npz.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad {

/// For one sample x (784,) and one-hot y (10,): X, Y, W0, W1, W2 (then b0, b1, b2 with biases),
/// the tape's gradients of the categorical cross-entropy gW0, gW1, gW2 (gb0, gb1, gb2), C (a 0-d
/// array) and `options` (NetworkOptions::describe()); float64 in the article's shapes.
/// Leaves those gradients in the network's Parameters. Throws ShapeError for other shapes.
std::vector<NpzEntry> gradient_dump(Network& net, const Tensor& x, const Tensor& y);

/// Writes gradient_dump(net, x, y) to `path` with save_npz: atomically, or ModelFileError.
void write_gradient_dump(const std::filesystem::path& path, Network& net, const Tensor& x,
                         const Tensor& y);

}  // namespace stepgrad
