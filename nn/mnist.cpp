// The IDX reader (raw and gzip, strict: RELIABILITY R9-R11), the image/label checks (R12) and
// the standard and article splits.
#include "mnist.hpp"

#define ZLIB_CONST  // next_in is a pointer to const: inflate never writes to its input
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "random.hpp"

namespace stepgrad {

// Note [Strict gzip]
// zlib's gzread() is lenient in two ways a loader must not be: it reads concatenated gzip
// members as one stream, and it passes data that is not gzip through unchanged ("transparent"
// mode), so garbage after the stream would be read as payload or silently skipped. stepgrad
// therefore runs inflate() itself over the file's bytes, with the gzip wrapper only
// (windowBits 16 + 15): inflate stops at the end of the first member after checking its CRC-32
// and length, and any byte left over is an error. inflate's return code and message play the
// part of gzerror(), inflateEnd's result the part of gzclose()'s.

// Note [Allocation bound]
// A header is never trusted with memory. Raw: the payload it claims must equal the bytes that
// follow it, checked before anything is allocated, so a load allocates about the file's size.
// gzip: deflate expands at most 1032:1, so a claim above 1032 x the file's size is rejected
// before allocating; below that, the buffer grows by doubling only as inflate actually
// produces bytes, so a lying header costs at most twice what the stream really holds, and a
// stream that goes on past the claim (a decompression bomb) is stopped one byte after it.

namespace {

constexpr std::size_t max_deflate_ratio = 1032;
// zlib counts bytes in 32-bit uInt; larger spans are handed over in pieces of this size.
constexpr std::size_t zlib_chunk = std::size_t{1} << 30;

[[noreturn]] void fail(std::string_view name, std::string_view field, std::string_view expected,
                       std::string_view found) {
  throw DataError(fmt::format("{}: {}: expected {}, found {}", name, field, expected, found));
}

std::string_view type_name(std::uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "16-bit integer";
    case 0x0C:
      return "32-bit integer";
    case 0x0D:
      return "float";
    case 0x0E:
      return "double";
    default:
      return "not an IDX type";
  }
}

std::string byte_count(std::size_t n) {
  return n == 0 ? "0 bytes (empty)" : fmt::format("{} bytes", n);
}

// Checks the first four bytes (magic 00 00, type code, number of dimensions); returns the
// number of dimensions.
std::size_t check_prefix(std::span<const std::uint8_t> b, std::string_view name) {
  if (b[0] != 0 || b[1] != 0) {
    const bool gzip = b[0] == 0x1f && b[1] == 0x8b;
    fail(name, "magic", "00 00 (IDX)",
         fmt::format("{:02x} {:02x}{}", b[0], b[1],
                     gzip ? " (gzip data where raw IDX was expected: compressed twice?)" : ""));
  }
  if (b[2] != 0x08) {
    fail(name, "type code", "0x08 (unsigned byte)",
         fmt::format("{:#04x} ({})", b[2], type_name(b[2])));
  }
  if (b[3] == 0) fail(name, "number of dimensions", "at least 1", "0");
  return b[3];
}

struct Dims {
  std::vector<std::size_t> dims;
  std::size_t payload = 0;  // product of dims, bytes
};

// Decodes the big-endian 32-bit dimensions and their product, without overflow.
Dims decode_dims(std::span<const std::uint8_t> b, std::string_view name) {
  const std::size_t n = b.size() / 4;
  Dims d;
  d.dims.reserve(n);  // n <= 255
  std::uint64_t product = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t v = (std::uint32_t{b[4 * i]} << 24) | (std::uint32_t{b[4 * i + 1]} << 16) |
                            (std::uint32_t{b[4 * i + 2]} << 8) | std::uint32_t{b[4 * i + 3]};
    if (v == 0) fail(name, fmt::format("dimension {} of {}", i + 1, n), "at least 1", "0");
    if (product > std::numeric_limits<std::uint64_t>::max() / v) overflow = true;
    if (!overflow) product *= v;
    d.dims.push_back(v);
  }
  if (overflow || product > std::numeric_limits<std::size_t>::max()) {
    fail(name, "size", "a product of dimensions that fits in 64 bits",
         fmt::format("{}", fmt::join(d.dims, " x ")));
  }
  d.payload = static_cast<std::size_t>(product);
  return d;
}

std::string payload_expected(std::size_t payload, std::size_t header) {
  return fmt::format("{} bytes after the {}-byte header", payload, header);
}

// Checks a raw IDX file's header against its length; returns its dimensions and header size.
std::pair<Dims, std::size_t> check_raw(std::span<const std::uint8_t> bytes, std::string_view name) {
  if (bytes.size() < 4) {
    fail(name, "header", "at least 4 bytes (magic, type code, number of dimensions)",
         byte_count(bytes.size()));
  }
  const std::size_t ndims = check_prefix(bytes.first(4), name);
  const std::size_t header = 4 + 4 * ndims;
  if (bytes.size() < header) {
    fail(name, "header", fmt::format("{} bytes for {} dimensions", header, ndims),
         byte_count(bytes.size()));
  }
  Dims d = decode_dims(bytes.subspan(4, 4 * ndims), name);
  const std::size_t have = bytes.size() - header;
  if (have != d.payload) {
    fail(name, "payload", payload_expected(d.payload, header),
         fmt::format("{} ({})", have,
                     have < d.payload ? "the file is truncated" : "unexpected trailing bytes"));
  }
  return {std::move(d), header};
}

// inflate() over bytes in memory, gzip wrapper only (Note [Strict gzip]).
class Inflater {
 public:
  Inflater(std::span<const std::uint8_t> in, std::string_view name) : in_(in), name_(name) {
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  }
  ~Inflater() {
    if (open_) inflateEnd(&stream_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  /// Inflates into `out` until it is full or the stream ends; returns the bytes written.
  std::size_t read(std::span<std::uint8_t> out) {
    std::size_t done = 0;
    while (done < out.size() && !ended_) {
      if (stream_.avail_in == 0 && fed_ < in_.size()) feed();
      const std::size_t chunk = std::min(out.size() - done, zlib_chunk);
      stream_.next_out = out.data() + done;
      stream_.avail_out = static_cast<uInt>(chunk);
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      done += chunk - stream_.avail_out;
      if (rc == Z_STREAM_END) {
        ended_ = true;
      } else if (rc == Z_BUF_ERROR && stream_.avail_in == 0 && fed_ == in_.size()) {
        fail(name_, "gzip stream", "a complete stream with its CRC-32 and length",
             fmt::format("the file cut off after {} compressed bytes", in_.size()));
      } else if (rc != Z_OK) {
        fail(name_, "gzip stream", "valid deflate data with a matching CRC-32 and length",
             fmt::format("corrupt data near compressed byte {} (zlib: {})", consumed(),
                         stream_.msg != nullptr ? stream_.msg : zError(rc)));
      }
    }
    return done;
  }
  bool ended() const { return ended_; }
  /// Compressed bytes that inflate has not used: after the end, bytes after the stream.
  std::size_t unused() const { return stream_.avail_in + (in_.size() - fed_); }
  std::size_t consumed() const { return in_.size() - unused(); }
  /// Releases zlib's state, checking it as gzclose() would.
  void close() {
    open_ = false;
    if (inflateEnd(&stream_) != Z_OK) {
      fail(name_, "gzip stream", "a clean end of inflate", "an inconsistent zlib state");
    }
  }

 private:
  void feed() {
    const std::size_t n = std::min(in_.size() - fed_, zlib_chunk);
    stream_.next_in = in_.data() + fed_;
    stream_.avail_in = static_cast<uInt>(n);
    fed_ += n;
  }

  std::span<const std::uint8_t> in_;
  std::string_view name_;
  z_stream stream_{};
  std::size_t fed_ = 0;  // bytes of in_ handed to zlib so far
  bool ended_ = false;
  bool open_ = true;
};

IdxArray parse_gzip(std::span<const std::uint8_t> bytes, std::string_view name) {
  Inflater z(bytes, name);
  std::uint8_t prefix[4];
  const std::size_t got = z.read(prefix);
  if (got < 4) {
    fail(name, "header", "at least 4 bytes (magic, type code, number of dimensions)",
         fmt::format("{} after decompression", byte_count(got)));
  }
  const std::size_t ndims = check_prefix(prefix, name);
  const std::size_t header = 4 + 4 * ndims;
  std::uint8_t dims_bytes[4 * 255];
  const std::span<std::uint8_t> dims_span(dims_bytes, 4 * ndims);
  if (const std::size_t n = z.read(dims_span); n < dims_span.size()) {
    fail(name, "header", fmt::format("{} bytes for {} dimensions", header, ndims),
         fmt::format("{} after decompression", byte_count(4 + n)));
  }
  Dims d = decode_dims(dims_span, name);

  // Note [Allocation bound]
  const std::size_t limit =
      bytes.size() > std::numeric_limits<std::size_t>::max() / max_deflate_ratio
          ? std::numeric_limits<std::size_t>::max()
          : bytes.size() * max_deflate_ratio;
  if (d.payload > limit) {
    fail(name, "payload",
         fmt::format("at most {} bytes (deflate expands at most {}:1 and the file has {})", limit,
                     max_deflate_ratio, byte_count(bytes.size())),
         fmt::format("a header that claims {}", d.payload));
  }
  std::vector<std::uint8_t> data(std::min(d.payload, 4 * bytes.size() + (std::size_t{1} << 16)));
  std::size_t filled = 0;
  for (;;) {
    filled += z.read(std::span(data).subspan(filled));
    if (filled == d.payload || z.ended()) break;
    data.resize(std::min(d.payload, 2 * data.size()));
  }
  if (filled < d.payload) {
    fail(name, "payload", payload_expected(d.payload, header),
         fmt::format("{} (the gzip stream ends early)", filled));
  }
  std::uint8_t extra = 0;
  if (z.read(std::span(&extra, 1)) != 0) {
    fail(name, "payload", payload_expected(d.payload, header),
         "more (the gzip stream goes on past the size in the header)");
  }
  if (z.unused() != 0) {
    fail(name, "end of file", "the end of the gzip stream",
         fmt::format("{} more bytes (garbage or a second gzip member)", z.unused()));
  }
  z.close();
  IdxArray a;
  a.dims = std::move(d.dims);
  a.data = std::move(data);
  return a;
}

// By content, not by file name: a .gz name on raw bytes (or the reverse) still loads.
bool is_gzip(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

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

// dir/name, else dir/name.gz.
std::filesystem::path find_file(const std::filesystem::path& dir, std::string_view name,
                                DatasetKind dataset) {
  std::error_code ec;
  std::filesystem::path raw = dir / name;
  if (std::filesystem::is_regular_file(raw, ec)) return raw;
  std::filesystem::path gz = raw;
  gz += ".gz";
  if (std::filesystem::is_regular_file(gz, ec)) return gz;
  throw DataError(fmt::format("{}: file: expected {} or {}.gz, found neither; {}", dir.string(),
                              name, name, hint(dataset)));
}

}  // namespace

std::string_view to_string(SplitKind kind) {
  switch (kind) {
    case SplitKind::standard:
      return "standard";
    case SplitKind::article:
      return "article";
  }
  return "?";
}

std::string_view to_string(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::mnist:
      return "MNIST";
    case DatasetKind::fashion:
      return "Fashion-MNIST";
  }
  return "?";
}

IdxArray parse_idx(std::span<const std::uint8_t> bytes, std::string_view name) {
  if (is_gzip(bytes)) return parse_gzip(bytes, name);
  auto [dims, header] = check_raw(bytes, name);
  IdxArray a;
  a.dims = std::move(dims.dims);
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

IdxArray read_idx(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(name, "file", "an IDX file", "a folder");
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  const std::unique_ptr<std::FILE, Closer> file(std::fopen(name.c_str(), "rb"));
  if (!file) {
    fail(name, "file", "a readable file",
         fmt::format("an error opening it: {}", std::strerror(errno)));
  }
  std::FILE* f = file.get();
  // Read to the end rather than trusting a size taken before: the bytes read are what is
  // parsed. The size only saves reallocations.
  constexpr std::size_t chunk = std::size_t{1} << 20;
  std::vector<std::uint8_t> bytes;
  const std::uintmax_t size_hint = std::filesystem::file_size(path, ec);
  if (!ec && size_hint < std::numeric_limits<std::size_t>::max() - chunk) {
    bytes.reserve(static_cast<std::size_t>(size_hint) + chunk);
  }
  for (;;) {
    const std::size_t old = bytes.size();
    bytes.resize(old + chunk);
    const std::size_t n = std::fread(bytes.data() + old, 1, chunk, f);
    bytes.resize(old + n);
    if (n < chunk) break;
  }
  if (std::ferror(f) != 0) fail(name, "file", "a readable file", "a read error");
  if (is_gzip(bytes)) return parse_gzip(bytes, name);
  // Raw: the file's buffer becomes the payload in place (the header is shifted off by one
  // memmove), so no second 47 MB buffer is allocated.
  auto [dims, header] = check_raw(bytes, name);
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
  return IdxArray{std::move(dims.dims), std::move(bytes)};
}

ImageSet make_image_set(IdxArray images, IdxArray labels, std::string_view images_name,
                        std::string_view labels_name) {
  if (images.dims.size() != 3) {
    fail(images_name, "number of dimensions", "3 (count, rows, columns) for images",
         fmt::format("{}", images.dims.size()));
  }
  if (images.dims[1] != image_rows || images.dims[2] != image_cols) {
    fail(images_name, "image size",
         fmt::format("{} x {} (the network has {} inputs)", image_rows, image_cols, image_pixels),
         fmt::format("{} x {}", images.dims[1], images.dims[2]));
  }
  if (labels.dims.size() != 1) {
    fail(labels_name, "number of dimensions", "1 (count) for labels",
         fmt::format("{}", labels.dims.size()));
  }
  if (labels.dims[0] != images.dims[0]) {
    fail(labels_name, "count",
         fmt::format("{} labels, one per image in {}", images.dims[0], images_name),
         fmt::format("{}", labels.dims[0]));
  }
  const auto bad = std::find_if(labels.data.begin(), labels.data.end(),
                                [](std::uint8_t v) { return v >= num_classes; });
  if (bad != labels.data.end()) {
    fail(labels_name, fmt::format("label of item {}", bad - labels.data.begin()),
         fmt::format("0-{}", num_classes - 1), fmt::format("{}", *bad));
  }
  ImageSet set;
  set.pixels = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

ImageSet load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels) {
  return make_image_set(read_idx(images), read_idx(labels), images.string(), labels.string());
}

Subset::Subset(std::shared_ptr<const ImageSet> pool, std::vector<std::size_t> items)
    : pool_(std::move(pool)), items_(std::move(items)) {
  const std::size_t n = pool_ ? pool_->size() : 0;
  for (std::size_t i : items_) {
    if (i >= n) throw std::out_of_range(fmt::format("Subset: item {} of a pool of {}", i, n));
  }
}

std::uint8_t Subset::label(std::size_t i) const { return pool_->labels[items_.at(i)]; }

std::span<const std::uint8_t> Subset::pixels(std::size_t i) const {
  return std::span(pool_->pixels).subspan(items_.at(i) * image_pixels, image_pixels);
}

void Subset::input(std::size_t i, Tensor& x) const {
  const std::span<const std::uint8_t> p = pixels(i);
  x.resize(Shape::vector(image_pixels));
  for (std::size_t r = 0; r < image_pixels; ++r) x[r] = pixel_value[p[r]];
}

void Subset::one_hot(std::size_t i, Tensor& y) const {
  const std::uint8_t l = label(i);
  y.resize(Shape::vector(num_classes));
  y.fill(0.0);
  y[l] = 1.0;
}

void Subset::check_range(std::size_t first, std::size_t count) const {
  if (first > size() || count > size() - first) {
    throw std::out_of_range(fmt::format("Subset: samples {} to {} asked of a subset of {}", first,
                                        first + count, size()));
  }
}

void Subset::inputs(std::size_t first, std::size_t count, Tensor& X) const {
  check_range(first, count);
  X.resize(Shape::matrix(image_pixels, count));  // (784, count)
  for (std::size_t k = 0; k < count; ++k) {
    const std::span<const std::uint8_t> p = pixels(first + k);
    for (std::size_t r = 0; r < image_pixels; ++r) X(r, k) = pixel_value[p[r]];
  }
}

void Subset::one_hots(std::size_t first, std::size_t count, Tensor& Y) const {
  check_range(first, count);
  Y.resize(Shape::matrix(num_classes, count));  // (10, count)
  Y.fill(0.0);
  for (std::size_t k = 0; k < count; ++k) Y(label(first + k), k) = 1.0;
}

Subset Subset::first(std::size_t n) const {
  if (n > size()) {
    throw std::out_of_range(fmt::format("Subset: the first {} of a subset of {}", n, size()));
  }
  return Subset(pool_, std::vector<std::size_t>(items_.begin(),
                                                items_.begin() + static_cast<std::ptrdiff_t>(n)));
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
    throw DataError(fmt::format(
        "{}: folder: expected a folder with the four IDX files, found {}; {}", dir.string(),
        std::filesystem::exists(dir, ec) ? "a file" : "nothing", hint(dataset)));
  }
  ImageSet train = load_idx_pair(find_file(dir, "train-images-idx3-ubyte", dataset),
                                 find_file(dir, "train-labels-idx1-ubyte", dataset));
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
    throw std::out_of_range(fmt::format("limit: expected at most {} training samples, found {}",
                                        train_items.size(), limit));
  }
  std::string limited;
  if (limit > 0) {
    limited = fmt::format(" (first {} of {} used)", limit, train_items.size());
    train_items.resize(limit);
  }
  Split split;
  split.description = fmt::format("{} from {}, {} split ({}): {} train{} / {} test",
                                  to_string(dataset), dir.string(), to_string(kind), how,
                                  train_items.size(), limited, test_items.size());
  split.train = Subset(pool, std::move(train_items));
  split.test = Subset(pool, std::move(test_items));
  return split;
}

}  // namespace stepgrad
