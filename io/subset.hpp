// The explorer's subset of MNIST in one small file (mnist-subset.bin, docs/explorer.md): the first
// N training and M test images of the article's split, written by web/pack_subset and read by the
// page's engine (web/bindings.cpp). Format: "SGMN", u32 version 1, u32 N, u32 M, then per set:
// its u32 MNIST indices (0-69999, OpenML's order), its pixels (784 bytes each), its labels (one
// byte each). Little-endian.
// This file and subset.cpp (which also holds Subset's code, io/mnist.hpp) use no file system and
// no zlib: the explorer's WebAssembly build compiles them alone of io/.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <stepgrad/io/mnist.hpp>

namespace stepgrad {

/// One set of the file: its samples, and each one's index in MNIST (0-69999, OpenML's order).
struct PackedSet {
  Subset samples;
  std::vector<std::uint32_t> mnist_index;
  std::size_t size() const { return samples.size(); }
};

struct PackedSubset {
  PackedSet train;
  PackedSet test;
};

/// The file's bytes for every sample of `train` and `test`; a sample's MNIST index is its position
/// in the pool (Subset::index), as in load_split's article split.
std::vector<std::uint8_t> pack_subset(const Subset& train, const Subset& test);

/// Reads the file's bytes; throws DataError ("data: ...", one line) for anything else: a wrong
/// header or version, a short file, trailing bytes, a label past 9.
PackedSubset unpack_subset(std::span<const std::uint8_t> bytes);

}  // namespace stepgrad
