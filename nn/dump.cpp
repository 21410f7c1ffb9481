// The gradient dump, written with the same .npz writer as model files.
#include <stepgrad/nn/dump.hpp>

#include <stepgrad/nn/crosscheck.hpp>

namespace stepgrad {

std::vector<NpzEntry> gradient_dump(Network& net, const Tensor& x, const Tensor& y) {
  // One sample only: numpy's check recomputes eqs. (8)-(11) for column vectors.
  if (x.shape() != Shape::vector(kLayerSizes[0]))
    throw_shape_error("gradient_dump", x.shape(), Shape::vector(kLayerSizes[0]),
                      "X must be one image (784,)");
  if (y.shape() != Shape::vector(kLayerSizes[3]))
    throw_shape_error("gradient_dump", y.shape(), Shape::vector(kLayerSizes[3]),
                      "Y must be one one-hot label (10,)");
  Tape tape;
  const TapeForward f = tape_gradients(tape, net, x, y);
  std::vector<NpzEntry> entries{{"X", x}, {"Y", y}};
  const std::vector<Parameter*> params = net.parameters();
  for (const Parameter* p : params) entries.push_back({p->name, p->value});
  for (Parameter* p : params) entries.push_back({"g" + p->name, p->grad()});
  entries.push_back({"C", f.C.value()});
  entries.push_back({"options", net.options().describe()});
  return entries;
}

void write_gradient_dump(const std::filesystem::path& path, Network& net, const Tensor& x,
                         const Tensor& y) {
  save_npz(path, gradient_dump(net, x, y));
}

}  // namespace stepgrad
