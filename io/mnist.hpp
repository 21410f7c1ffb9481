// MNIST and Fashion-MNIST: a strict reader for IDX files (raw or gzip, R9-R13 in
// docs/reliability.md) and the two train/test splits the tutorials use, the article's one among
// them. Images stay uint8 in memory and become doubles in [0, 1] only when a sample is used.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/autodiff/enum_names.hpp>
#include <stepgrad/autodiff/tensor.hpp>
#include <stepgrad/io/idx.hpp>

namespace stepgrad {

enum class SplitKind : std::uint8_t { standard, article };
enum class DatasetKind : std::uint8_t { mnist, fashion };

template <>
struct EnumNames<SplitKind> {
  static constexpr std::array<std::pair<std::string_view, SplitKind>, 2> values{
      {{"article", SplitKind::article}, {"standard", SplitKind::standard}}};
};
template <>
struct EnumNames<DatasetKind> {
  static constexpr std::array<std::pair<std::string_view, DatasetKind>, 2> values{
      {{"mnist", DatasetKind::mnist}, {"fashion", DatasetKind::fashion}}};
};
/// "MNIST" / "Fashion-MNIST", as their authors spell them.
std::string_view display_name(DatasetKind kind);

inline constexpr std::size_t kImageRows = 28;
inline constexpr std::size_t kImageCols = 28;
inline constexpr std::size_t kImagePixels = kImageRows * kImageCols;  // 784, the input layer

/// A pixel byte's input value, p / 255.0 (eq. 1: O0 = X): a table, computed at compile time with
/// the same correctly rounded division, so the inputs are the same doubles without a division
/// per pixel (784 of them cost a visible share of a training step).
inline constexpr std::array<double, 256> kPixelValue = [] {
  std::array<double, 256> t{};
  for (std::size_t v = 0; v < t.size(); ++v) t[v] = static_cast<double>(v) / 255.0;
  return t;
}();
inline constexpr std::size_t kNumClasses = 10;

/// x becomes shape (784,) = pixels / 255.0 (eq. 1: O0 = X) for one image's 784 pixel bytes;
/// std::invalid_argument for another count (Tensor::resize keeps x's allocation).
void image_input(std::span<const std::uint8_t> pixels, Tensor& x);
/// y becomes shape (10,): 1 at `label` (0-9), 0 elsewhere; std::invalid_argument past 9.
void one_hot(std::size_t label, Tensor& y);

/// n images of 28x28 uint8 and their labels, in file order.
struct ImageSet {
  std::vector<std::uint8_t> pixels;  // (n, 784), row-major, 0..255
  std::vector<std::uint8_t> labels;  // (n,), 0..9
  std::size_t size() const { return labels.size(); }
};

/// Checks that two parsed files are images (n, 28, 28) and labels (n,) in 0-9, and pairs them.
ImageSet make_image_set(IdxArray images, IdxArray labels, std::string_view images_name,
                        std::string_view labels_name);
/// Reads an images file and a labels file (raw or gzip) and pairs them.
/// `spare_images`: room for that many more pixel bytes (read_idx's `spare`).
ImageSet load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels,
                       std::size_t spare_images = 0);

/// Which items of a shared pool, in which order (no copy of the pixels). Its code is in
/// subset.cpp, which needs no file system and no zlib (io/subset.hpp).
class Subset {
 public:
  Subset() = default;
  /// Items `items` of `pool`, in that order; throws std::out_of_range for an index past the end.
  Subset(std::shared_ptr<const ImageSet> pool, std::vector<std::size_t> items);

  std::size_t size() const { return items_.size(); }
  /// The position in the pool of sample i.
  std::size_t index(std::size_t i) const { return items_.at(i); }
  std::uint8_t label(std::size_t i) const;
  /// The 784 pixels of sample i, 0..255, row by row.
  std::span<const std::uint8_t> pixels(std::size_t i) const;
  /// image_input of sample i's pixels.
  void input(std::size_t i, Tensor& x) const { image_input(pixels(i), x); }
  /// one_hot of sample i's label.
  void one_hot(std::size_t i, Tensor& y) const { stepgrad::one_hot(label(i), y); }
  /// X becomes (784, k) for k samples: column j is sample samples[j] (the article's column
  /// vectors); std::out_of_range for a sample past the end.
  void inputs(std::span<const std::size_t> samples, Tensor& X) const;
  /// Y becomes (10, k): column j is the one-hot label of sample samples[j].
  void one_hots(std::span<const std::size_t> samples, Tensor& Y) const;
  /// The first n samples, sharing the pool.
  Subset first(std::size_t n) const;

 private:
  std::shared_ptr<const ImageSet> pool_;
  std::vector<std::size_t> items_;
};

struct Split {
  Subset train;
  Subset test;
  std::string description;  // one line: dataset, folder, kind, sizes
};

/// Where stepgrad looks for a dataset by default: data/mnist, and for Fashion-MNIST data/fashion
/// when it exists, else the folder Debian's dataset-fashion-mnist package installs.
std::filesystem::path default_data_dir(DatasetKind dataset);

/// standard: the 60k/10k files as they are. article: pool train then test (70,000, OpenML's
/// order), RandomState(42).permutation(70000) (autodiff/random.hpp), test = first 21,000,
/// train = the remaining 49,000 in permutation order. limit > 0 keeps the first `limit`
/// training samples. Files are found in `dir` by their canonical names, raw or with ".gz".
Split load_split(const std::filesystem::path& dir, SplitKind kind, std::size_t limit = 0,
                 DatasetKind dataset = DatasetKind::mnist);

}  // namespace stepgrad
