// The IDX reader: raw and gzip, strict (R9-R11 in docs/reliability.md).
#include <stepgrad/io/idx.hpp>

#define ZLIB_CONST  // next_in is a pointer to const: inflate never writes to its input
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stepgrad/io/files.hpp>

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

constexpr std::size_t kMaxDeflateRatio = 1032;
// No IDX file stepgrad reads comes near this (MNIST's largest is 47 MB raw, 10 MB gzipped).
constexpr std::uint64_t kMaxIdxFileBytes = std::uint64_t{1} << 30;
// zlib counts bytes in 32-bit uInt; larger spans are handed over in pieces of this size.
constexpr std::size_t kZlibChunk = std::size_t{1} << 30;

[[noreturn]] void fail(std::string_view name, std::string_view field, std::string_view expected,
                       std::string_view found) {
  throw_data_error(name, field, expected, found);
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
      const std::size_t chunk = std::min(out.size() - done, kZlibChunk);
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
    const std::size_t n = std::min(in_.size() - fed_, kZlibChunk);
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
      bytes.size() > std::numeric_limits<std::size_t>::max() / kMaxDeflateRatio
          ? std::numeric_limits<std::size_t>::max()
          : bytes.size() * kMaxDeflateRatio;
  if (d.payload > limit) {
    fail(name, "payload",
         fmt::format("at most {} bytes (deflate expands at most {}:1 and the file has {})", limit,
                     kMaxDeflateRatio, byte_count(bytes.size())),
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

}  // namespace

void throw_data_error(std::string_view name, std::string_view field, std::string_view expected,
                      std::string_view found) {
  throw DataError(fmt::format("{}: {}: expected {}, found {}", name, field, expected, found));
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
  std::vector<std::uint8_t> bytes;
  try {
    bytes = read_file(path, kMaxIdxFileBytes);
  } catch (const FileError& e) {
    throw DataError(e.what());
  }
  if (is_gzip(bytes)) return parse_gzip(bytes, name);
  // Raw: the file's buffer becomes the payload in place (the header is shifted off by one
  // memmove), so no second 47 MB buffer is allocated.
  auto [dims, header] = check_raw(bytes, name);
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
  return IdxArray{std::move(dims.dims), std::move(bytes)};
}

}  // namespace stepgrad
