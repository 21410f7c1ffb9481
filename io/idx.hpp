// IDX files (LeCun's format for MNIST): a strict reader for raw and gzip-compressed files of
// unsigned bytes (R9-R11 in docs/reliability.md). Knows nothing of digits: io/mnist.hpp pairs
// the files into images and labels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace stepgrad {

/// A data file that cannot be used; the one-line message names the file, the field, and the
/// expected and found values.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws DataError("name: field: expected E, found F").
[[noreturn]] void throw_data_error(std::string_view name, std::string_view field,
                                   std::string_view expected, std::string_view found);

/// The contents of one IDX file of unsigned bytes: its dimensions and its row-major payload.
struct IdxArray {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> data;
};

/// Parses IDX bytes held in memory, gzip-compressed (detected by the bytes 1f 8b) or raw; every
/// malformed input is a DataError that names `name`.
IdxArray parse_idx(std::span<const std::uint8_t> bytes, std::string_view name);
/// Reads a whole file and parses it with parse_idx.
IdxArray read_idx(const std::filesystem::path& path);

}  // namespace stepgrad
