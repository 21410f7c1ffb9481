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
/// Reads an IDX file, raw or gzip, as parse_idx parses bytes, but reads only what its header
/// claims (R21): the claim is checked against the file's size before the payload is read, and
/// a gzip file is inflated from the file a chunk at a time, so a file far larger than its header
/// (a sparse 20 GiB file, say) is rejected at once. When `expected_rank` is not 0, a header with
/// another number of dimensions is rejected before its payload is read; `rank_meaning` follows
/// the number in that message ("(count) for labels"). A raw file's payload is read into a buffer
/// with room for `spare` more bytes, so that a caller appending to it does not reallocate.
IdxArray read_idx(const std::filesystem::path& path, std::size_t expected_rank = 0,
                  std::string_view rank_meaning = {}, std::size_t spare = 0);

}  // namespace stepgrad
