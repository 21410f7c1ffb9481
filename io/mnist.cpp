// MNIST as the tutorials use it: the four IDX files paired into images and labels (R12 in
// docs/reliability.md), and the standard and article splits.
#include <stepgrad/io/mnist.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/io/files.hpp>

namespace stepgrad {

namespace {

std::string_view hint(DatasetKind dataset) {
  switch (dataset) {
    case DatasetKind::mnist:
      return "run scripts/fetch-mnist to download and verify MNIST into data/mnist, or pass "
             "--data DIR naming a folder with the four IDX files (raw or .gz)";
    case DatasetKind::fashion:
      return "run scripts/fetch-mnist --dataset fashion (it installs Debian's "
             "dataset-fashion-mnist), or pass --data DIR naming a folder with the four IDX files";
  }
  return "";
}

// dir/name, else dir/name.gz. A name that is there but not a file (a folder, a FIFO) is named
// with what it is, in open_input's words, rather than reported missing.
std::filesystem::path find_file(const std::filesystem::path& dir, std::string_view name,
                                DatasetKind dataset) {
  std::error_code ec;
  std::filesystem::path raw = dir / name;
  if (std::filesystem::is_regular_file(raw, ec)) return raw;
  std::filesystem::path gz = raw;
  gz += ".gz";
  if (std::filesystem::is_regular_file(gz, ec)) return gz;
  for (const std::filesystem::path& p : {raw, gz}) {
    // stat only: never opens, never blocks. A loop of links is named (open_input), not missing.
    if (!std::filesystem::exists(std::filesystem::status(p, ec)) && ec.value() != ELOOP) continue;
    try {
      open_input(p);  // without blocking, even on a FIFO; says what p is instead of a file
    } catch (const FileError& e) {
      throw DataError(e.what());
    }
    return p;  // a regular file after all (it was replaced meanwhile)
  }
  throw DataError(fmt::format("{}: file: expected {} or {}.gz, found neither; {}", dir.string(),
                              name, name, hint(dataset)));
}

}  // namespace

std::string_view display_name(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::mnist:
      return "MNIST";
    case DatasetKind::fashion:
      return "Fashion-MNIST";
  }
  return "?";
}

ImageSet make_image_set(IdxArray images, IdxArray labels, std::string_view images_name,
                        std::string_view labels_name) {
  if (images.dims.size() != 3) {
    throw_data_error(images_name, "number of dimensions", "3 (count, rows, columns) for images",
                     fmt::format("{}", images.dims.size()));
  }
  if (images.dims[1] != kImageRows || images.dims[2] != kImageCols) {
    throw_data_error(
        images_name, "image size",
        fmt::format("{} x {} (the network has {} inputs)", kImageRows, kImageCols, kImagePixels),
        fmt::format("{} x {}", images.dims[1], images.dims[2]));
  }
  if (labels.dims.size() != 1) {
    throw_data_error(labels_name, "number of dimensions", "1 (count) for labels",
                     fmt::format("{}", labels.dims.size()));
  }
  if (labels.dims[0] != images.dims[0]) {
    throw_data_error(labels_name, "count",
                     fmt::format("{} labels, one per image in {}", images.dims[0], images_name),
                     fmt::format("{}", labels.dims[0]));
  }
  const auto bad = std::find_if(labels.data.begin(), labels.data.end(),
                                [](std::uint8_t v) { return v >= kNumClasses; });
  if (bad != labels.data.end()) {
    throw_data_error(labels_name, fmt::format("label of item {}", bad - labels.data.begin()),
                     fmt::format("0-{}", kNumClasses - 1), fmt::format("{}", *bad));
  }
  ImageSet set;
  set.pixels = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

ImageSet load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels,
                       std::size_t spare_images) {
  // The numbers of dimensions make_image_set checks, checked before a payload is read.
  return make_image_set(read_idx(images, 3, "(count, rows, columns) for images", spare_images),
                        read_idx(labels, 1, "(count) for labels"), images.string(),
                        labels.string());
}

std::filesystem::path default_data_dir(DatasetKind dataset) {
  switch (dataset) {
    case DatasetKind::mnist:
      return "data/mnist";
    case DatasetKind::fashion: {
      std::error_code ec;
      if (std::filesystem::is_directory("data/fashion", ec)) return "data/fashion";
      return "/usr/share/datasets/fashion-mnist";
    }
  }
  return "data/mnist";
}

Split load_split(const std::filesystem::path& dir, SplitKind kind, std::size_t limit,
                 DatasetKind dataset) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw DataError(
        fmt::format("{}: folder: expected a folder with the four IDX files, found {}; {}",
                    dir.string(), what_is_at(dir), hint(dataset)));
  }
  // The training images are read with room for the test images after them (a raw test file's
  // size is a close bound), so the pool below grows in place: appending to a full buffer would
  // hold both copies of the training images at once (peak RSS of 10_train 116 MB, not 70).
  // Only a hint: errors stay load_idx_pair's, in the files' order.
  std::error_code size_ec;
  const std::uintmax_t test_size =
      std::filesystem::file_size(dir / "t10k-images-idx3-ubyte", size_ec);
  ImageSet train = load_idx_pair(find_file(dir, "train-images-idx3-ubyte", dataset),
                                 find_file(dir, "train-labels-idx1-ubyte", dataset),
                                 size_ec ? 0 : static_cast<std::size_t>(test_size));
  ImageSet test = load_idx_pair(find_file(dir, "t10k-images-idx3-ubyte", dataset),
                                find_file(dir, "t10k-labels-idx1-ubyte", dataset));
  // One pool, training file first: OpenML's mnist_784 order, which the article loads.
  const std::size_t n_train = train.size();
  const std::size_t n = n_train + test.size();
  auto pool = std::make_shared<ImageSet>(std::move(train));
  pool->pixels.insert(pool->pixels.end(), test.pixels.begin(), test.pixels.end());
  pool->labels.insert(pool->labels.end(), test.labels.begin(), test.labels.end());

  std::vector<std::size_t> train_items;
  std::vector<std::size_t> test_items;
  std::string how;
  switch (kind) {
    case SplitKind::standard:
      train_items.resize(n_train);
      std::iota(train_items.begin(), train_items.end(), std::size_t{0});
      test_items.resize(n - n_train);
      std::iota(test_items.begin(), test_items.end(), n_train);
      how = "the training and test files as they are";
      break;
    case SplitKind::article: {
      // scikit-learn's train_test_split(X, y, test_size=0.3, random_state=42) is a ShuffleSplit:
      // the first ceil(0.3 n) items of RandomState(42).permutation(n) are the test set, the rest
      // (in permutation order) the training set.
      const std::vector<std::size_t> perm = RandomState(42).permutation(n);
      const std::size_t n_test = (3 * n + 9) / 10;
      const auto cut = perm.begin() + static_cast<std::ptrdiff_t>(n_test);
      test_items.assign(perm.begin(), cut);
      train_items.assign(cut, perm.end());
      how = fmt::format(
          "train and test files pooled, {} items, RandomState(42).permutation, first 30% to test",
          n);
      break;
    }
  }
  if (limit > train_items.size()) {
    throw std::out_of_range(fmt::format("limit {}: the {} split has {} training samples", limit,
                                        to_string(kind), train_items.size()));
  }
  std::string limited;
  if (limit > 0) {
    limited = fmt::format(" (first {} of {} used)", limit, train_items.size());
    train_items.resize(limit);
  }
  Split split;
  split.description = fmt::format("{} from {}, {} split ({}): {} train{} / {} test",
                                  display_name(dataset), dir.string(), to_string(kind), how,
                                  train_items.size(), limited, test_items.size());
  split.train = Subset(pool, std::move(train_items));
  split.test = Subset(pool, std::move(test_items));
  return split;
}

}  // namespace stepgrad
