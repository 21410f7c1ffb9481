// Subset's code (io/mnist.hpp), and the explorer's packed subset (io/subset.hpp). No file system,
// no zlib: the explorer's WebAssembly build compiles this file alone of io/.
#include <stepgrad/io/subset.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace stepgrad {

Subset::Subset(std::shared_ptr<const ImageSet> pool, std::vector<std::size_t> items)
    : pool_(std::move(pool)), items_(std::move(items)) {
  const std::size_t n = pool_ ? pool_->size() : 0;
  for (std::size_t i : items_) {
    if (i >= n) throw std::out_of_range(fmt::format("Subset: item {} of a pool of {}", i, n));
  }
}

std::uint8_t Subset::label(std::size_t i) const { return pool_->labels[items_.at(i)]; }

std::span<const std::uint8_t> Subset::pixels(std::size_t i) const {
  return std::span(pool_->pixels).subspan(items_.at(i) * kImagePixels, kImagePixels);
}

void image_input(std::span<const std::uint8_t> p, Tensor& x) {
  if (p.size() != kImagePixels)
    throw std::invalid_argument(
        fmt::format("image_input: an image is {} pixel bytes, not {}", kImagePixels, p.size()));
  x.resize(Shape::vector(kImagePixels));
  // Eight pixels at a time: most runs of eight are black (Note [Sparse inputs] in
  // autodiff/kernels_fast.cpp), and eight zero bytes read as one zero word become eight +0.0
  // without eight table lookups (the lookups took 6% of a per-sample step).
  static_assert(kImagePixels % 8 == 0);
  double* out = x.data();
  for (std::size_t r = 0; r < kImagePixels; r += 8) {
    std::uint64_t eight;
    std::memcpy(&eight, p.data() + r, sizeof eight);
    if (eight == 0) {
      std::fill_n(out + r, 8, 0.0);
    } else {
      for (std::size_t k = r; k < r + 8; ++k) out[k] = kPixelValue[p[k]];
    }
  }
}

void one_hot(std::size_t l, Tensor& y) {
  if (l >= kNumClasses) throw std::invalid_argument(fmt::format("one_hot: label {} is not 0-9", l));
  y.resize(Shape::vector(kNumClasses));
  y.fill(0.0);
  y[l] = 1.0;
}

void Subset::inputs(std::span<const std::size_t> samples, Tensor& X) const {
  const std::size_t n = samples.size();
  X.resize(Shape::matrix(kImagePixels, n));  // (784, count)
  // Eight samples at a time, so that each row of X is written eight contiguous values at a time
  // rather than one value per cache line (a column at a time took a fifth of a minibatch step).
  constexpr std::size_t kTile = 8;
  for (std::size_t k0 = 0; k0 < n; k0 += kTile) {
    const std::size_t width = std::min(kTile, n - k0);
    std::array<const std::uint8_t*, kTile> p{};
    for (std::size_t k = 0; k < width; ++k) p[k] = pixels(samples[k0 + k]).data();
    for (std::size_t r = 0; r < kImagePixels; ++r) {
      double* row = X.data() + r * n + k0;
      for (std::size_t k = 0; k < width; ++k) row[k] = kPixelValue[p[k][r]];
    }
  }
}

void Subset::one_hots(std::span<const std::size_t> samples, Tensor& Y) const {
  Y.resize(Shape::matrix(kNumClasses, samples.size()));  // (10, count)
  Y.fill(0.0);
  for (std::size_t k = 0; k < samples.size(); ++k) Y(label(samples[k]), k) = 1.0;
}

Subset Subset::first(std::size_t n) const {
  if (n > size()) {
    throw std::out_of_range(fmt::format("Subset: the first {} of a subset of {}", n, size()));
  }
  return Subset(pool_, std::vector<std::size_t>(items_.begin(),
                                                items_.begin() + static_cast<std::ptrdiff_t>(n)));
}

namespace {

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::uint8_t>((v >> (8 * k)) & 0xffu));
}

void put_set(std::vector<std::uint8_t>& out, const Subset& s) {
  for (std::size_t i = 0; i < s.size(); ++i) put_u32(out, static_cast<std::uint32_t>(s.index(i)));
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::span<const std::uint8_t> pixels = s.pixels(i);
    out.insert(out.end(), pixels.begin(), pixels.end());
  }
  for (std::size_t i = 0; i < s.size(); ++i) out.push_back(s.label(i));
}

// Reads the file from the front, each read checked against its end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::size_t left() const { return bytes_.size() - at_; }
  std::uint32_t u32() {
    if (left() < 4) throw DataError("data: the file ends too early");
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k)
      v |= std::uint32_t{bytes_[at_ + static_cast<std::size_t>(k)]} << (8 * k);
    at_ += 4;
    return v;
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    if (left() < n) throw DataError("data: the file is short");
    const std::span<const std::uint8_t> out = bytes_.subspan(at_, n);
    at_ += n;
    return out;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t at_ = 0;
};

PackedSet read_set(Reader& in, std::size_t n) {
  // Checked before anything is allocated; the division keeps n * 789 from overflowing a 32-bit
  // size_t (WebAssembly's), as a corrupt count would.
  if (n > in.left() / (4 + kImagePixels + 1)) throw DataError("data: the file is short");
  PackedSet set;
  set.mnist_index.resize(n);
  for (std::uint32_t& i : set.mnist_index) i = in.u32();
  auto pool = std::make_shared<ImageSet>();
  const std::span<const std::uint8_t> pixels = in.take(n * kImagePixels);
  const std::span<const std::uint8_t> labels = in.take(n);
  pool->pixels.assign(pixels.begin(), pixels.end());
  pool->labels.assign(labels.begin(), labels.end());
  if (std::any_of(labels.begin(), labels.end(), [](std::uint8_t l) { return l >= kNumClasses; }))
    throw DataError("data: a label is not 0-9");
  std::vector<std::size_t> items(n);
  for (std::size_t i = 0; i < n; ++i) items[i] = i;
  set.samples = Subset(std::move(pool), std::move(items));
  return set;
}

}  // namespace

std::vector<std::uint8_t> pack_subset(const Subset& train, const Subset& test) {
  std::vector<std::uint8_t> out{'S', 'G', 'M', 'N'};
  put_u32(out, 1);
  put_u32(out, static_cast<std::uint32_t>(train.size()));
  put_u32(out, static_cast<std::uint32_t>(test.size()));
  put_set(out, train);
  put_set(out, test);
  return out;
}

PackedSubset unpack_subset(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 16 || std::memcmp(bytes.data(), "SGMN", 4) != 0)
    throw DataError("data: not a stepgrad MNIST subset (no SGMN header)");
  Reader in(bytes.subspan(4));
  if (in.u32() != 1) throw DataError("data: unknown version");
  const std::size_t n_train = in.u32();
  const std::size_t n_test = in.u32();
  PackedSubset out;
  out.train = read_set(in, n_train);
  out.test = read_set(in, n_test);
  if (in.left() != 0) throw DataError("data: trailing bytes after the test set");
  return out;
}

}  // namespace stepgrad
