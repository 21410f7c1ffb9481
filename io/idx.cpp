// The IDX reader: raw and gzip, strict (R9-R11 in docs/reliability.md).
#include <stepgrad/io/idx.hpp>

#define ZLIB_CONST  // next_in is a pointer to const: inflate never writes to its input
#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <array>
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
// part of gzerror(), inflateEnd's result the part of gzclose()'s. A file is inflated as it is
// read, 1 MiB at a time; the bytes after the stream are counted from the file's size, not read.

// Note [Allocation bound]
// A header is never trusted with memory, and the file's size is never trusted with time: what
// is read and allocated is bounded by the header's claim, itself capped at kMaxIdxFileBytes.
// Raw: the payload the header claims must equal the bytes that follow it, checked (against the
// file's size) before the payload is read or allocated, so a load allocates about the claim.
// gzip: deflate expands at most 1032:1, so a claim above 1032 x the compressed size is rejected
// before allocating; below that, the buffer grows by doubling only as inflate actually
// produces bytes, so a lying header costs at most twice what the stream really holds (or the
// first buffer, at most 64 MiB), and a stream that goes on past the claim (a decompression
// bomb) is stopped soon after it (Note [Overrun or corruption]).

// Note [Overrun or corruption]
// A stream that inflates past the header's claim is either a valid stream longer than the claim
// (the header lies, or a bomb) or a corrupt stream: a damaged byte can make inflate emit bytes
// that were never compressed, and zlib only notices later (a bad code, or the CRC-32 at the end).
// Blaming the header for a damaged stream would send the user to the wrong place, so past the
// claim the reader inflates on into a scratch buffer, at most kOverrunProbeBytes more, and
// reports corrupt data (or a stream cut off) if zlib finds it there. Only a stream still valid
// after that, or one that ends there with a good CRC-32, is reported as going on past the claim;
// a bomb is still stopped soon after its claim, whatever it would inflate to.

namespace {

constexpr std::size_t kMaxDeflateRatio = 1032;
// The most any header may claim. No IDX file stepgrad reads comes near this (MNIST's largest
// is 47 MB raw, 10 MB gzipped).
constexpr std::uint64_t kMaxIdxFileBytes = std::uint64_t{1} << 30;
// zlib counts bytes in 32-bit uInt; larger spans are handed over in pieces of this size.
constexpr std::size_t kZlibChunk = std::size_t{1} << 30;
// A gzip file is read in pieces of this size (Note [Strict gzip]).
constexpr std::size_t kFileChunk = std::size_t{1} << 20;
// The first buffer for a gzip payload: 4 x the compressed size suggests, but a file may be
// mostly bytes after its stream (Note [Allocation bound]).
constexpr std::size_t kMaxFirstBuffer = std::size_t{64} << 20;
// How far past the claim a stream is inflated to tell corruption from an overrun (Note
// [Overrun or corruption]).
constexpr std::size_t kOverrunProbeBytes = std::size_t{1} << 20;

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

std::string byte_count(std::uint64_t n) {
  return n == 0 ? "0 bytes (empty)" : fmt::format("{} bytes", n);
}

/// The number of dimensions a caller needs (0: any), and what they are for.
struct Rank {
  std::size_t n = 0;
  std::string_view meaning;
};

// Checks the first four bytes (magic 00 00, type code, number of dimensions) and the number of
// dimensions the caller needs; returns the number of dimensions.
std::size_t check_prefix(std::span<const std::uint8_t> b, std::string_view name, const Rank& rank) {
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
  // Before the dimensions and the payload: their sizes mean nothing in the wrong shape.
  if (rank.n != 0 && b[3] != rank.n) {
    fail(name, "number of dimensions",
         rank.meaning.empty() ? fmt::format("{}", rank.n)
                              : fmt::format("{} {}", rank.n, rank.meaning),
         fmt::format("{}", b[3]));
  }
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

// The cap of Note [Allocation bound], on what the header claims.
void check_cap(const Dims& d, std::string_view name) {
  if (d.payload > kMaxIdxFileBytes) {
    fail(name, "payload",
         fmt::format("at most {} bytes (the most stepgrad reads from one IDX file)",
                     kMaxIdxFileBytes),
         fmt::format("a header that claims {}", d.payload));
  }
}

// Checks a raw IDX file's header against its size, before any of the payload is read: `read`
// fills a span with the file's next bytes. Returns the dimensions and the header's size.
template <class Read>
std::pair<Dims, std::size_t> check_raw(std::uint64_t size, Read&& read, std::string_view name,
                                       const Rank& rank) {
  if (size < 4) {
    fail(name, "header", "at least 4 bytes (magic, type code, number of dimensions)",
         byte_count(size));
  }
  std::uint8_t prefix[4];
  read(std::span<std::uint8_t>(prefix));
  const std::size_t ndims = check_prefix(prefix, name, rank);
  const std::size_t header = 4 + 4 * ndims;
  if (size < header) {
    fail(name, "header", fmt::format("{} bytes for {} dimensions", header, ndims),
         byte_count(size));
  }
  std::uint8_t dims_bytes[4 * 255];
  const std::span<std::uint8_t> dims_span(dims_bytes, 4 * ndims);
  read(dims_span);
  Dims d = decode_dims(dims_span, name);
  const std::uint64_t have = size - header;
  if (have != d.payload) {
    fail(name, "payload", payload_expected(d.payload, header),
         fmt::format("{} ({})", have,
                     have < d.payload ? "the file is truncated" : "unexpected trailing bytes"));
  }
  check_cap(d, name);
  return {std::move(d), header};
}

// inflate() over bytes in memory or read from a file, gzip wrapper only (Note [Strict gzip]).
class Inflater {
 public:
  /// Over bytes in memory.
  Inflater(std::span<const std::uint8_t> in, std::string_view name)
      : mem_(in), size_(in.size()), name_(name) {
    init();
  }
  /// Over an open file, from its current offset (its start) to the size it had when opened.
  Inflater(InputFile& file, std::string_view name) : file_(&file), size_(file.size), name_(name) {
    init();
  }
  ~Inflater() {
    if (open_) inflateEnd(&stream_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  /// Inflates into `out` until it is full or the stream ends; returns the bytes written.
  std::size_t read(std::span<std::uint8_t> out) {
    std::size_t done = 0;
    switch (pump(out, done)) {
      case Result::cut_off:
        fail(name_, "gzip stream", "a complete stream with its CRC-32 and length",
             fmt::format("the file cut off after {} compressed bytes", size_));
      case Result::corrupt:
        fail_corrupt();
      case Result::ok:
        break;
    }
    return done;
  }
  /// Inflates up to `n` more bytes into a scratch buffer, and fails as read() does if zlib finds
  /// them corrupt or the file cut off there (Note [Overrun or corruption]); the end of the stream
  /// stops it quietly.
  void probe(std::size_t n) {
    std::array<std::uint8_t, std::size_t{1} << 16> scratch;
    while (n > 0 && !ended_) n -= read(std::span(scratch).first(std::min(n, scratch.size())));
  }
  bool ended() const { return ended_; }
  /// The compressed size: the span's, or the file's.
  std::uint64_t size() const { return size_; }
  /// Compressed bytes that inflate has not used: after the end, bytes after the stream.
  std::uint64_t unused() const { return stream_.avail_in + (size_ - fed_); }
  std::uint64_t consumed() const { return size_ - unused(); }
  /// Releases zlib's state, checking it as gzclose() would.
  void close() {
    open_ = false;
    if (inflateEnd(&stream_) != Z_OK) {
      fail(name_, "gzip stream", "a clean end of inflate", "an inconsistent zlib state");
    }
  }

 private:
  enum class Result : std::uint8_t { ok, cut_off, corrupt };

  void init() {
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  }

  // Inflates into out[done..] until it is full, the stream ends, or zlib fails.
  Result pump(std::span<std::uint8_t> out, std::size_t& done) {
    while (done < out.size() && !ended_) {
      if (stream_.avail_in == 0 && fed_ < size_) feed();
      const std::size_t chunk = std::min(out.size() - done, kZlibChunk);
      stream_.next_out = out.data() + done;
      stream_.avail_out = static_cast<uInt>(chunk);
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      done += chunk - stream_.avail_out;
      if (rc == Z_STREAM_END) {
        ended_ = true;
      } else if (rc == Z_BUF_ERROR && stream_.avail_in == 0 && fed_ == size_) {
        return Result::cut_off;
      } else if (rc != Z_OK) {
        rc_ = rc;
        return Result::corrupt;
      }
    }
    return Result::ok;
  }

  [[noreturn]] void fail_corrupt() const {
    fail(name_, "gzip stream", "valid deflate data with a matching CRC-32 and length",
         fmt::format("corrupt data near compressed byte {} (zlib: {})", consumed(),
                     stream_.msg != nullptr ? stream_.msg : zError(rc_)));
  }

  void feed() {
    if (file_ == nullptr) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(size_ - fed_, kZlibChunk));
      stream_.next_in = mem_.data() + fed_;
      stream_.avail_in = static_cast<uInt>(n);
      fed_ += n;
      return;
    }
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(size_ - fed_, kFileChunk));
    buffer_.resize(kFileChunk);
    read_exact(*file_, std::span(buffer_).first(n));  // a FileError if the file shrank
    stream_.next_in = buffer_.data();
    stream_.avail_in = static_cast<uInt>(n);
    fed_ += n;
  }

  std::span<const std::uint8_t> mem_;  // the input in memory, or
  InputFile* file_ = nullptr;          // the input file, read into buffer_
  std::vector<std::uint8_t> buffer_;
  std::uint64_t size_ = 0;  // compressed bytes in all
  std::string_view name_;
  z_stream stream_{};
  std::uint64_t fed_ = 0;  // bytes of the input handed to zlib so far
  int rc_ = Z_OK;          // inflate's code when it failed
  bool ended_ = false;
  bool open_ = true;
};

IdxArray parse_gzip(Inflater& z, std::string_view name, const Rank& rank) {
  std::uint8_t prefix[4];
  const std::size_t got = z.read(prefix);
  if (got < 4) {
    fail(name, "header", "at least 4 bytes (magic, type code, number of dimensions)",
         fmt::format("{} after decompression", byte_count(got)));
  }
  const std::size_t ndims = check_prefix(prefix, name, rank);
  const std::size_t header = 4 + 4 * ndims;
  std::uint8_t dims_bytes[4 * 255];
  const std::span<std::uint8_t> dims_span(dims_bytes, 4 * ndims);
  if (const std::size_t n = z.read(dims_span); n < dims_span.size()) {
    fail(name, "header", fmt::format("{} bytes for {} dimensions", header, ndims),
         fmt::format("{} after decompression", byte_count(4 + n)));
  }
  Dims d = decode_dims(dims_span, name);

  // Note [Allocation bound]
  const std::uint64_t compressed = z.size();
  const std::uint64_t limit =
      compressed > std::numeric_limits<std::uint64_t>::max() / kMaxDeflateRatio
          ? std::numeric_limits<std::uint64_t>::max()
          : compressed * kMaxDeflateRatio;
  if (d.payload > limit) {
    fail(name, "payload",
         fmt::format("at most {} bytes (deflate expands at most {}:1 and the file has {})", limit,
                     kMaxDeflateRatio, byte_count(compressed)),
         fmt::format("a header that claims {}", d.payload));
  }
  check_cap(d, name);
  const std::uint64_t first = std::min<std::uint64_t>(
      {d.payload, std::min<std::uint64_t>(compressed, kMaxFirstBuffer) * 4 + (1 << 16),
       kMaxFirstBuffer});
  std::vector<std::uint8_t> data(static_cast<std::size_t>(first));
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
    z.probe(kOverrunProbeBytes);  // Note [Overrun or corruption]
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
  if (is_gzip(bytes)) {
    Inflater z(bytes, name);
    return parse_gzip(z, name, Rank{});
  }
  std::size_t at = 0;
  auto read = [&](std::span<std::uint8_t> out) {
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), out.size(), out.begin());
    at += out.size();
  };
  auto [dims, header] = check_raw(bytes.size(), read, name, Rank{});
  IdxArray a;
  a.dims = std::move(dims.dims);
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

IdxArray read_idx(const std::filesystem::path& path, std::size_t expected_rank,
                  std::string_view rank_meaning, std::size_t spare) {
  const std::string name = path.string();
  const Rank rank{expected_rank, rank_meaning};
  // Note [Allocation bound]: nothing here reads or allocates by the file's size.
  try {
    InputFile file = open_input(path);
    std::uint8_t magic[2] = {0, 0};
    if (file.size >= 2) {
      read_exact(file, magic);
      if (::lseek(file.fd.get(), 0, SEEK_SET) != 0) {
        throw FileError(name, fmt::format("cannot seek back to its start: {}", errno_text(errno)));
      }
    }
    if (is_gzip(magic)) {
      Inflater z(file, name);
      return parse_gzip(z, name, rank);
    }
    auto read = [&](std::span<std::uint8_t> out) { read_exact(file, out); };
    auto [dims, header] = check_raw(file.size, read, name, rank);
    std::vector<std::uint8_t> data;
    // Reserving touches no page; a bogus `spare` is capped like a payload.
    data.reserve(dims.payload +
                 static_cast<std::size_t>(std::min<std::uint64_t>(spare, kMaxIdxFileBytes)));
    data.resize(dims.payload);
    read_exact(file, data);
    return IdxArray{std::move(dims.dims), std::move(data)};
  } catch (const FileError& e) {
    throw DataError(e.what());
  }
}

}  // namespace stepgrad
