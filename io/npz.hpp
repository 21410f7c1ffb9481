// numpy .npz files (a zip of .npy arrays) through libzip: model files and gradient dumps that
// learners open with numpy.load. Loading validates everything before trusting it (R14 in
// docs/reliability.md); saving is atomic (R16) and byte-for-byte deterministic (R19).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <stepgrad/autodiff/tensor.hpp>

namespace stepgrad {

/// Any failure to save or load an .npz file; the one-line message starts with the file's name.
class ModelFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One member of an .npz file. `name` has no ".npy"; the value is a float64 array ('<f8') or a
/// 0-d unicode string ('<U<n>', numpy's np.array("text")), which holds UTF-8 here.
struct NpzEntry {
  std::string name;
  std::variant<Tensor, std::string> value;
};

/// What the loader accepts; every cap is checked before anything of that size is allocated.
struct NpzLimits {
  std::size_t max_entries = 64;
  std::uint64_t max_entry_bytes = std::uint64_t{64} << 20;  ///< one .npy, uncompressed
  std::uint64_t max_total_bytes = std::uint64_t{64} << 20;  ///< all .npy together, uncompressed
  std::size_t max_header_bytes = 4096;                      ///< one .npy header dict
  bool require_finite = false;                              ///< reject NaN and Inf (model files)
};

/// Writes `entries` in order as NAME.npy (npy 1.0, as numpy.savez: stored, numpy's exact header
/// bytes) through a temporary file in the same folder, fsync and rename. Names may use
/// [A-Za-z0-9_.-]. Throws ModelFileError and leaves any previous file untouched on failure.
void save_npz(const std::filesystem::path& path, std::span<const NpzEntry> entries);

/// Test seam for save_npz: called at each step ("temp file created", "entry W0", ...,
/// "written"); an exception thrown from it fails the save at that point.
using SaveProbe = std::function<void(std::string_view step)>;
/// save_npz with a probe (see SaveProbe).
void save_npz(const std::filesystem::path& path, std::span<const NpzEntry> entries,
              const SaveProbe& probe);

/// The bytes save_npz writes (the same for the same entries, R19).
std::vector<std::uint8_t> save_npz_bytes(std::span<const NpzEntry> entries);

/// Reads every entry, in file order. Stored and deflated members, npy 1.0-3.0, '<f8' of rank
/// 0-2 and 0-d '<U<n>' strings; anything else is a ModelFileError naming file, entry and why.
std::vector<NpzEntry> load_npz(const std::filesystem::path& path, const NpzLimits& limits = {});

/// The bytes of an .npz file, when its size fits `limits` (checked before reading, R21);
/// ModelFileError otherwise. load_npz is load_npz_bytes(read_npz_file(path)).
std::vector<std::uint8_t> read_npz_file(const std::filesystem::path& path,
                                        const NpzLimits& limits = {});

/// load_npz from memory; `name` stands for the file in messages.
std::vector<NpzEntry> load_npz_bytes(std::span<const std::uint8_t> bytes, std::string_view name,
                                     const NpzLimits& limits = {});

/// The entry called `name`, or nullptr.
const NpzEntry* find_entry(std::span<const NpzEntry> entries, std::string_view name);

/// The array `name` of shape `shape`, or ModelFileError such as
/// "model.npz: array W0 has shape (128, 700), the network needs (128, 784)".
const Tensor& require_tensor(std::span<const NpzEntry> entries, std::string_view name,
                             const Shape& shape, std::string_view file,
                             std::string_view needed_by = "the network");

/// The string entry `name`, or ModelFileError.
const std::string& require_string(std::span<const NpzEntry> entries, std::string_view name,
                                  std::string_view file);

}  // namespace stepgrad
