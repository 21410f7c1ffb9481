// Helper of tests/scripts/check_dump.py: `dump_helper FILE` writes the gradient dump of the
// article's network (seed 42) for a synthetic MNIST-like sample, so that numpy can check it
// where no MNIST data is at hand.
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/dump.hpp>
#include "common/digits.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: dump_helper FILE.npz\n");
    return 2;
  }
  try {
    stepgrad::Network net;
    const stepgrad::testing::Sample s = stepgrad::testing::synthetic_sample(31);
    stepgrad::write_gradient_dump(argv[1], net, s.x, s.y);
  } catch (const std::exception& e) {
    fmt::print(stderr, "dump_helper: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
