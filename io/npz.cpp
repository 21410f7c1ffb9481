// .npz files: .npy members as numpy writes them, a strict reader for the ones we are given, libzip
// for the zip container, and the atomic save (Note [Atomic save]).
#include <stepgrad/io/npz.hpp>

#include <zip.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include <stepgrad/io/files.hpp>

namespace stepgrad {
namespace {

constexpr std::string_view kNpyMagic = "\x93NUMPY";
constexpr std::size_t kNpyAlign = 64;  // numpy's ARRAY_ALIGN
// numpy pads the header so that the first dimension can grow to this many digits in place.
constexpr std::size_t kNpyGrowthDigits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS
constexpr std::size_t kMaxNpyRank = 32;       // numpy's NPY_MAXDIMS
constexpr std::uint16_t kDosDate19800101 = (0 << 9) | (1 << 5) | 1;

// ---- Messages ---------------------------------------------------------------------------------

// Quotes bytes from a file for a one-line message: printable ASCII as it is, the rest as \xNN.
std::string printable(std::string_view s, std::size_t max = 48) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

[[noreturn]] void fail(std::string_view file, std::string_view what) {
  throw ModelFileError(fmt::format("{}: {}", file, what));
}

/// Where a member's errors are reported: "model.npz: entry 'W0.npy': ...".
struct EntryWhere {
  std::string_view file;
  std::string_view member;
  [[noreturn]] void fail(std::string_view what) const {
    throw ModelFileError(fmt::format("{}: entry '{}': {}", file, printable(member), what));
  }
};

// ---- Little-endian bytes ----------------------------------------------------------------------

void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return std::nullopt;
  return a * b;
}

// ---- UTF-8 <-> code points (numpy stores '<U' strings as UTF-32LE) ----------------------------

std::optional<std::vector<char32_t>> utf8_decode(std::string_view s) {
  std::vector<char32_t> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    char32_t cp = 0;
    if (b0 < 0x80) {
      n = 1, cp = b0;
    } else if ((b0 & 0xe0) == 0xc0) {
      n = 2, cp = b0 & 0x1fu;
    } else if ((b0 & 0xf0) == 0xe0) {
      n = 3, cp = b0 & 0x0fu;
    } else if ((b0 & 0xf8) == 0xf0) {
      n = 4, cp = b0 & 0x07u;
    } else {
      return std::nullopt;
    }
    if (i + n > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (b & 0x3fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return std::nullopt;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

void utf8_append(std::string& out, char32_t cp) {
  const auto byte = [](char32_t v) { return static_cast<char>(static_cast<unsigned char>(v)); };
  if (cp < 0x80) {
    out += byte(cp);
  } else if (cp < 0x800) {
    out += byte(0xc0 | (cp >> 6));
    out += byte(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += byte(0xe0 | (cp >> 12));
    out += byte(0x80 | ((cp >> 6) & 0x3f));
    out += byte(0x80 | (cp & 0x3f));
  } else {
    out += byte(0xf0 | (cp >> 18));
    out += byte(0x80 | ((cp >> 12) & 0x3f));
    out += byte(0x80 | ((cp >> 6) & 0x3f));
    out += byte(0x80 | (cp & 0x3f));
  }
}

// ---- Writing .npy -----------------------------------------------------------------------------

// Note [numpy's header bytes]
// numpy.save writes "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", then
// 21 - len(str(shape[0])) spaces (room for the first dimension to grow), then spaces and a
// final '\n' so that magic + version + length + header is a multiple of 64 bytes; a header
// already at a multiple gets 64 more (numpy/lib/format.py, _write_array_header and
// _wrap_header). We do exactly the same, so each member is byte-identical to np.save's.
std::vector<std::uint8_t> npy_prefix(std::string_view descr, std::span<const std::uint64_t> dims) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr,
                                 tuple_text(dims));
  if (!dims.empty()) dict.append(kNpyGrowthDigits - fmt::formatted_size("{}", dims[0]), ' ');
  const std::size_t hlen = dict.size() + 1;  // with the final '\n'
  const std::size_t padlen = kNpyAlign - (kNpyMagic.size() + 2 + 2 + hlen) % kNpyAlign;
  std::vector<std::uint8_t> out(kNpyMagic.begin(), kNpyMagic.end());
  out.push_back(1);  // version 1.0: a 2-byte header length is plenty for our headers
  out.push_back(0);
  put_le(out, hlen + padlen, 2);
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), padlen, ' ');
  out.push_back('\n');
  return out;
}

std::vector<std::uint64_t> dims_of(const Shape& s) {
  switch (s.rank) {
    case 0:
      return {};
    case 1:
      return {s.rows};
    default:
      return {s.rows, s.cols};
  }
}

std::vector<std::uint8_t> encode_tensor(const Tensor& t) {
  std::vector<std::uint8_t> out = npy_prefix("<f8", dims_of(t.shape()));
  out.reserve(out.size() + 8 * t.size());
  for (const double v : t.values()) put_le(out, std::bit_cast<std::uint64_t>(v), 8);
  return out;
}

// np.array("text"): a 0-d '<U<n>' array of n UTF-32LE code points; numpy gives "" one NUL.
std::vector<std::uint8_t> encode_string(std::span<const char32_t> text) {
  const std::size_t n = std::max<std::size_t>(text.size(), 1);
  std::vector<std::uint8_t> out = npy_prefix(fmt::format("<U{}", n), {});
  for (const char32_t cp : text) put_le(out, cp, 4);
  if (text.empty()) put_le(out, 0, 4);
  return out;
}

bool valid_entry_name(std::string_view name) {
  return !name.empty() && name.size() <= 200 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// Everything that can be wrong with the entries themselves, found before any file is touched.
void check_entries(std::span<const NpzEntry> entries, std::string_view file) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const NpzEntry& e = entries[i];
    if (!valid_entry_name(e.name)) {
      fail(file, fmt::format("cannot save entry {} named '{}': names are 1-200 characters of "
                             "[A-Za-z0-9_.-]",
                             i, printable(e.name)));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (entries[j].name == e.name) {
        fail(file,
             fmt::format("cannot save two entries named '{}' (entries {} and {})", e.name, j, i));
      }
    }
    if (const auto* s = std::get_if<std::string>(&e.value)) {
      const auto text = utf8_decode(*s);
      if (!text) fail(file, fmt::format("cannot save string '{}': it is not valid UTF-8", e.name));
      if (std::find(text->begin(), text->end(), U'\0') != text->end()) {
        fail(file, fmt::format("cannot save string '{}': it holds a NUL character, which numpy "
                               "would drop",
                               e.name));
      }
    }
  }
}

std::vector<std::uint8_t> encode_entry(const NpzEntry& e) {
  if (const auto* t = std::get_if<Tensor>(&e.value)) return encode_tensor(*t);
  return encode_string(*utf8_decode(std::get<std::string>(e.value)));  // checked by check_entries
}

// ---- libzip handles ---------------------------------------------------------------------------

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipSourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};
struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipDiscard>;
using ZipSourcePtr = std::unique_ptr<zip_source_t, ZipSourceFree>;
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileClose>;

class ZipError {
 public:
  ZipError() { zip_error_init(&error_); }
  ~ZipError() { zip_error_fini(&error_); }
  ZipError(const ZipError&) = delete;
  ZipError& operator=(const ZipError&) = delete;
  zip_error_t* get() { return &error_; }
  int code() const { return zip_error_code_zip(&error_); }
  std::string text() { return zip_error_strerror(&error_); }

 private:
  zip_error_t error_;
};

std::string zip_text(zip_t* za) { return zip_error_strerror(zip_get_error(za)); }

// ---- Writing the archive ----------------------------------------------------------------------

std::vector<std::uint8_t> build_archive(std::span<const NpzEntry> entries, std::string_view file,
                                        const SaveProbe* probe) {
  check_entries(entries, file);
  ZipError error;
  ZipSourcePtr buffer(zip_source_buffer_create(nullptr, 0, 0, error.get()));
  if (!buffer) fail(file, fmt::format("libzip cannot make an in-memory archive: {}", error.text()));
  ZipPtr za(zip_open_from_source(buffer.get(), ZIP_CREATE | ZIP_TRUNCATE, error.get()));
  if (!za) fail(file, fmt::format("libzip cannot make an in-memory archive: {}", error.text()));
  // The archive now owns one reference to the buffer; ours keeps the bytes alive after zip_close.
  zip_source_keep(buffer.get());

  // libzip reads the members' bytes only in zip_close, so they must live until then.
  std::vector<std::vector<std::uint8_t>> members;
  members.reserve(entries.size());
  for (const NpzEntry& e : entries) {
    const std::string member = e.name + ".npy";
    const auto& bytes = members.emplace_back(encode_entry(e));
    zip_source_t* src = zip_source_buffer(za.get(), bytes.data(), bytes.size(), 0);
    if (!src) fail(file, fmt::format("libzip cannot add '{}': {}", member, zip_text(za.get())));
    const zip_int64_t index = zip_file_add(za.get(), member.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(src);
      fail(file, fmt::format("libzip cannot add '{}': {}", member, zip_text(za.get())));
    }
    // Stored as numpy.savez does; a fixed timestamp makes equal models equal files (R19 in
    // docs/reliability.md).
    const auto i = static_cast<zip_uint64_t>(index);
    if (zip_set_file_compression(za.get(), i, ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(za.get(), i, 0, kDosDate19800101, 0) != 0) {
      fail(file, fmt::format("libzip cannot set up '{}': {}", member, zip_text(za.get())));
    }
    if (probe && *probe) (*probe)(fmt::format("entry {}", e.name));
  }
  if (zip_close(za.get()) != 0) {
    fail(file, fmt::format("libzip cannot write the archive: {}", zip_text(za.get())));
  }
  (void)za.release();  // zip_close freed it

  // zip_close writes nothing for an archive without members; numpy.savez() writes this.
  if (zip_source_is_deleted(buffer.get()))
    return {'P', 'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  if (zip_source_open(buffer.get()) != 0) {
    fail(file, fmt::format("libzip cannot read the archive back: {}",
                           zip_error_strerror(zip_source_error(buffer.get()))));
  }
  std::vector<std::uint8_t> out;
  std::uint8_t chunk[16384];
  for (;;) {
    const zip_int64_t got = zip_source_read(buffer.get(), chunk, sizeof chunk);
    if (got < 0) {
      const std::string why = zip_error_strerror(zip_source_error(buffer.get()));
      zip_source_close(buffer.get());
      fail(file, fmt::format("libzip cannot read the archive back: {}", why));
    }
    if (got == 0) break;
    out.insert(out.end(), chunk, chunk + got);
  }
  zip_source_close(buffer.get());
  return out;
}

// The archive is built in memory (libzip's zip_close on a path would write its own temporary
// file and rename it, beyond our reach) and saved through an AtomicFile (Note [Atomic save] in
// io/files.hpp): readers and a crash see the old file or the new one, never a mix (R16).

// ---- Reading .npy -----------------------------------------------------------------------------

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
};

// A strict reader of the Python dict literal numpy writes: the keys 'descr' (a string),
// 'fortran_order' (True/False) and 'shape' (a tuple of non-negative ints), each exactly once, in
// any order, with Python's whitespace and trailing commas. Nothing is evaluated.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const EntryWhere& where) : text_(text), where_(where) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    skip_space();
    expect('{', "'{' opening the header dict");
    for (;;) {
      skip_space();
      if (eat('}')) break;
      const std::string key = string_literal("a quoted key");
      skip_space();
      expect(':', "':' after the key");
      skip_space();
      if (key == "descr") {
        once(seen_descr, key);
        if (peek() == '[') {
          fail(
              "descr is a list (a structured dtype); only '<f8' arrays and 0-d '<U<n>' "
              "strings are supported");
        }
        h.descr = string_literal("the dtype string");
      } else if (key == "fortran_order") {
        once(seen_order, key);
        h.fortran_order = boolean();
      } else if (key == "shape") {
        once(seen_shape, key);
        h.shape = shape();
      } else {
        fail(
            fmt::format("header has an unknown key '{}'; expected only 'descr', "
                        "'fortran_order' and 'shape'",
                        printable(key)));
      }
      skip_space();
      if (eat(',')) continue;
      expect('}', "',' or '}' after a value");
      break;
    }
    skip_space();
    if (pos_ != text_.size()) {
      fail(fmt::format("unexpected text after the header dict at offset {}: '{}'", pos_,
                       printable(text_.substr(pos_), 24)));
    }
    if (!seen_descr) fail("header has no 'descr' key");
    if (!seen_order) fail("header has no 'fortran_order' key");
    if (!seen_shape) fail("header has no 'shape' key");
    return h;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const { where_.fail(what); }

  [[noreturn]] void syntax(std::string_view expected) const {
    fail(
        fmt::format("header is not a dict as numpy writes it: expected {} at offset {}, found "
                    "'{}'",
                    expected, pos_, printable(text_.substr(pos_), 24)));
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c, std::string_view what) {
    if (!eat(c)) syntax(what);
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  void once(bool& seen, std::string_view key) const {
    if (seen) fail(fmt::format("header has the key '{}' twice", key));
    seen = true;
  }

  // 'text' or "text" without escapes: numpy's keys and dtype strings never need them.
  std::string string_literal(std::string_view what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') syntax(what);
    const std::size_t start = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' || text_[pos_] == '\n') syntax("a string without escapes");
      ++pos_;
    }
    if (pos_ == text_.size()) syntax("the end of a string");
    return std::string(text_.substr(start, pos_++ - start));
  }

  bool boolean() {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    syntax("True or False for fortran_order");
  }

  std::vector<std::uint64_t> shape() {
    expect('(', "'(' opening the shape tuple");
    std::vector<std::uint64_t> dims;
    skip_space();
    if (eat(')')) return dims;
    for (;;) {
      if (dims.size() == kMaxNpyRank) fail("shape has more than 32 dimensions");
      dims.push_back(dimension());
      skip_space();
      if (eat(',')) {
        skip_space();
        if (eat(')')) return dims;
        continue;
      }
      expect(')', "',' or ')' in the shape tuple");
      break;
    }
    // In Python (5) is the number 5, not a tuple.
    if (dims.size() == 1) {
      fail(
          fmt::format("shape ({}) is a number, not a tuple; numpy writes ({},)", dims[0], dims[0]));
    }
    return dims;
  }

  std::uint64_t dimension() {
    const bool negative = eat('-');
    const auto is_digit = [this] {
      return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9';
    };
    if (!is_digit()) syntax("a dimension (a non-negative integer)");
    const std::size_t start = pos_;
    std::uint64_t v = 0;
    bool overflow = false;
    while (is_digit()) {
      const auto d = static_cast<std::uint64_t>(text_[pos_] - '0');
      if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) overflow = true;
      v = v * 10 + d;
      ++pos_;
    }
    const std::string_view digits = text_.substr(start, pos_ - start);
    if (overflow)
      fail(fmt::format("shape has a dimension {} that does not fit in 64 bits",
                       printable(digits, 30)));
    if (digits.size() > 1 && digits[0] == '0') {
      fail(fmt::format("shape has a dimension '{}' with a leading zero", printable(digits)));
    }
    eat('L');  // Python 2's long suffix, which numpy's own reader still accepts
    if (negative && v != 0) fail(fmt::format("shape has a negative dimension -{}", v));
    return v;
  }

  std::string_view text_;
  const EntryWhere& where_;
  std::size_t pos_ = 0;
};

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::variant<Tensor, std::string> parse_npy(std::span<const std::uint8_t> data,
                                            const EntryWhere& where, const NpzLimits& limits) {
  const std::size_t magic_seen = std::min(data.size(), kNpyMagic.size());
  const std::string_view magic(reinterpret_cast<const char*>(data.data()), magic_seen);
  if (magic != kNpyMagic) {
    where.fail(fmt::format("npy magic is '{}', expected '\\x93NUMPY'", printable(magic)));
  }
  if (data.size() < kNpyMagic.size() + 2) {
    where.fail(fmt::format("{} bytes end inside the npy version", data.size()));
  }
  const unsigned major = data[6], minor = data[7];
  if (major < 1 || major > 3 || minor != 0) {
    where.fail(fmt::format("npy version {}.{}, expected 1.0, 2.0 or 3.0", major, minor));
  }
  // Version 1.0 has a 2-byte header length, 2.0 and 3.0 (UTF-8 header) a 4-byte one.
  const int len_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = kNpyMagic.size() + 2 + static_cast<std::size_t>(len_bytes);
  if (data.size() < prefix) {
    where.fail(fmt::format("{} bytes end inside the npy header length", data.size()));
  }
  const std::uint64_t header_len = get_le(data.data() + 8, len_bytes);
  if (header_len > limits.max_header_bytes) {
    where.fail(fmt::format("npy header length {} is over the cap of {} bytes", header_len,
                           limits.max_header_bytes));
  }
  if (header_len > data.size() - prefix) {
    where.fail(fmt::format("npy header length {} runs past the end of the entry ({} bytes)",
                           header_len, data.size()));
  }
  const std::string_view text(reinterpret_cast<const char*>(data.data() + prefix),
                              static_cast<std::size_t>(header_len));
  const NpyHeader h = HeaderParser(text, where).parse();
  const std::span<const std::uint8_t> payload = data.subspan(prefix + text.size());
  const std::string shape = tuple_text(h.shape);

  if (h.descr == "|O" || h.descr == "O" || h.descr == "<O" || h.descr == ">O") {
    where.fail(
        fmt::format("dtype '{}' is an array of Python objects, which only pickle can read; "
                    "stepgrad never unpickles",
                    h.descr));
  }
  const bool is_string = h.descr.size() > 2 && h.descr.starts_with("<U");
  if (h.descr != "<f8" && !(is_string && is_digits(h.descr.substr(2)))) {
    where.fail(
        fmt::format("dtype '{}' is not supported; expected '<f8' (little-endian float64) or "
                    "a 0-d '<U<n>' string",
                    printable(h.descr)));
  }
  if (h.fortran_order) {
    where.fail("fortran_order is True (column-major); only C order (False) is supported");
  }
  std::uint64_t itemsize = 8;
  if (is_string) {
    if (!h.shape.empty()) {
      where.fail(fmt::format("a string entry must be 0-d, found shape {}", shape));
    }
    std::uint64_t n = 0;
    for (const char c : h.descr.substr(2)) {
      const auto next = checked_mul(n, 10);
      if (!next || *next > std::numeric_limits<std::uint64_t>::max() / 8) {
        where.fail(fmt::format("dtype '{}' is too long a string", printable(h.descr)));
      }
      n = *next + static_cast<std::uint64_t>(c - '0');
    }
    itemsize = 4 * n;
  } else if (h.shape.size() > 2) {
    where.fail(fmt::format("shape {} has rank {}; at most 2 is supported", shape, h.shape.size()));
  }
  std::uint64_t count = 1;
  for (const std::uint64_t d : h.shape) {
    const auto next = checked_mul(count, d);
    if (!next) where.fail(fmt::format("shape {} has more elements than fit in 64 bits", shape));
    count = *next;
  }
  const auto need = checked_mul(count, itemsize);
  if (!need) {
    where.fail(
        fmt::format("shape {} of '{}' needs more bytes than fit in 64 bits", shape, h.descr));
  }
  if (payload.size() != *need) {
    const bool short_ = payload.size() < *need;
    where.fail(fmt::format("payload is {} bytes, shape {} of '{}' needs {} ({} {})", payload.size(),
                           shape, h.descr, *need,
                           short_ ? *need - payload.size() : payload.size() - *need,
                           short_ ? "bytes missing" : "trailing bytes"));
  }

  if (is_string) {
    std::vector<char32_t> cps;
    for (std::size_t i = 0; i < payload.size(); i += 4) {
      const auto cp = static_cast<char32_t>(get_le(payload.data() + i, 4));
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        where.fail(fmt::format("string character {} is U+{:X}, not a Unicode scalar value", i / 4,
                               static_cast<std::uint32_t>(cp)));
      }
      cps.push_back(cp);
    }
    // numpy pads short strings with NULs and drops them when reading.
    while (!cps.empty() && cps.back() == U'\0') cps.pop_back();
    std::string text_out;
    for (const char32_t cp : cps) utf8_append(text_out, cp);
    return text_out;
  }

  const auto n = static_cast<std::size_t>(count);
  const Shape s = h.shape.empty()       ? Shape::scalar()
                  : h.shape.size() == 1 ? Shape::vector(static_cast<std::size_t>(h.shape[0]))
                                        : Shape::matrix(static_cast<std::size_t>(h.shape[0]),
                                                        static_cast<std::size_t>(h.shape[1]));
  Tensor t(s);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = std::bit_cast<double>(get_le(payload.data() + 8 * i, 8));
    if (limits.require_finite && !std::isfinite(v)) {
      where.fail(
          fmt::format("element {} is {}; finite values are required", format_index(s, i), v));
    }
    t[i] = v;
  }
  return t;
}

// ---- Reading the archive ----------------------------------------------------------------------

struct Member {
  std::string name;  // with ".npy"
  zip_uint64_t index = 0;
  std::uint64_t size = 0;
};

void check_member_name(std::string_view file, zip_uint64_t index, std::string_view name) {
  const auto bad = [&](std::string_view why) {
    fail(file, fmt::format("entry {} is named '{}': {}", index, printable(name), why));
  };
  if (name.size() <= 4 || !name.ends_with(".npy")) bad("expected NAME.npy");
  if (name.find_first_of("/\\") != std::string_view::npos) bad("names must not hold a '/' or '\\'");
  if (std::any_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
      })) {
    bad("names must not hold control characters");
  }
}

std::vector<std::uint8_t> read_member(zip_t* za, const Member& m, const EntryWhere& where) {
  ZipFilePtr f(zip_fopen_index(za, m.index, 0));
  if (!f) where.fail(fmt::format("cannot open it: {}", zip_text(za)));
  // Grow with the data actually read, so a size the zip merely declares allocates nothing.
  std::vector<std::uint8_t> data;
  std::vector<std::uint8_t> chunk(std::min<std::uint64_t>(m.size + 1, 65536));
  for (;;) {
    const zip_int64_t got = zip_fread(f.get(), chunk.data(), chunk.size());
    if (got < 0) {
      where.fail(
          fmt::format("cannot read it: {}", zip_error_strerror(zip_file_get_error(f.get()))));
    }
    if (got == 0) break;
    const auto n = static_cast<std::size_t>(got);
    if (n > m.size - data.size()) {
      where.fail(fmt::format("holds more than the {} bytes its zip header declares", m.size));
    }
    data.insert(data.end(), chunk.begin(), chunk.begin() + got);
  }
  if (data.size() != m.size) {
    where.fail(fmt::format("holds {} bytes, its zip header declares {}", data.size(), m.size));
  }
  const int rc = zip_fclose(f.release());
  if (rc != 0) {
    ZipError e;
    zip_error_set(e.get(), rc, 0);
    where.fail(fmt::format("cannot finish reading it: {}", e.text()));
  }
  return data;
}

ZipPtr open_archive(std::span<const std::uint8_t> bytes, int flags, std::string_view file,
                    ZipError& error) {
  ZipSourcePtr src(zip_source_buffer_create(bytes.data(), bytes.size(), 0, error.get()));
  if (!src) fail(file, fmt::format("libzip cannot read from memory: {}", error.text()));
  ZipPtr za(zip_open_from_source(src.get(), flags, error.get()));
  if (za) (void)src.release();  // the archive owns it now
  return za;
}

// libzip's strict open refuses two members of one name without saying which; a lenient open
// lists them all, so the message can.
[[noreturn]] void throw_duplicate(std::span<const std::uint8_t> bytes, std::string_view file) {
  ZipError error;
  const ZipPtr za = open_archive(bytes, ZIP_RDONLY, file, error);
  const zip_int64_t count = za ? zip_get_num_entries(za.get(), 0) : -1;
  std::unordered_map<std::string, zip_int64_t> seen;
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* name = zip_get_name(za.get(), static_cast<zip_uint64_t>(i), 0);
    if (!name) break;
    if (const auto [it, added] = seen.emplace(name, i); !added) {
      fail(file, fmt::format("entry '{}' appears twice (entries {} and {})", printable(name),
                             it->second, i));
    }
  }
  fail(file, "two entries have the same name (libzip: File already exists)");
}

}  // namespace

void save_npz(const std::filesystem::path& path, std::span<const NpzEntry> entries,
              const SaveProbe& probe) {
  const std::string file = path.string();
  try {
    check_entries(entries, file);  // before any file is touched
    AtomicFile tmp(path);
    if (probe) probe("temp file created");
    tmp.write(build_archive(entries, file, &probe));
    if (probe) probe("written");
    tmp.commit();
  } catch (const ModelFileError&) {
    throw;
  } catch (const FileError& e) {
    throw ModelFileError(e.what());
  } catch (const std::exception& e) {
    throw ModelFileError(fmt::format("{}: save failed: {}", file, e.what()));
  }
}

void save_npz(const std::filesystem::path& path, std::span<const NpzEntry> entries) {
  save_npz(path, entries, SaveProbe{});
}

std::vector<std::uint8_t> save_npz_bytes(std::span<const NpzEntry> entries) {
  return build_archive(entries, "(in memory)", nullptr);
}

std::vector<NpzEntry> load_npz_bytes(std::span<const std::uint8_t> bytes, std::string_view file,
                                     const NpzLimits& limits) {
  // libzip takes an empty source for an empty archive; an empty file is no archive.
  if (bytes.empty()) fail(file, "the file is empty (0 bytes), expected a zip archive");
  ZipError error;
  ZipPtr za = open_archive(bytes, ZIP_RDONLY | ZIP_CHECKCONS, file, error);
  if (!za) {
    switch (error.code()) {
      case ZIP_ER_NOZIP:
        fail(file, fmt::format("not a zip archive (libzip: {})", error.text()));
      case ZIP_ER_INCONS:
        fail(file, fmt::format("inconsistent zip archive (libzip: {})", error.text()));
      case ZIP_ER_EXISTS:
        throw_duplicate(bytes, file);
      default:
        fail(file, fmt::format("cannot open the zip archive (libzip: {})", error.text()));
    }
  }

  const zip_int64_t count = zip_get_num_entries(za.get(), 0);
  if (count < 0) fail(file, fmt::format("cannot count the entries: {}", zip_text(za.get())));
  if (static_cast<std::uint64_t>(count) > limits.max_entries) {
    fail(file, fmt::format("{} entries, more than the cap of {}", count, limits.max_entries));
  }

  // Every name and declared size is checked before any member is read.
  std::vector<Member> members;
  std::unordered_map<std::string, zip_uint64_t> seen;
  std::uint64_t total = 0;
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za.get(), i, 0, &st) != 0) {
      fail(file, fmt::format("cannot read entry {}: {}", i, zip_text(za.get())));
    }
    constexpr zip_uint64_t kNeeded =
        ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
    if ((st.valid & kNeeded) != kNeeded || st.name == nullptr) {
      fail(file, fmt::format("entry {} lacks a name, size or method", i));
    }
    Member m{st.name, i, st.size};
    check_member_name(file, i, m.name);
    const EntryWhere where{file, m.name};
    if (const auto [it, added] = seen.emplace(m.name, i); !added) {
      fail(file, fmt::format("entry '{}' appears twice (entries {} and {})", printable(m.name),
                             it->second, i));
    }
    if (st.encryption_method != ZIP_EM_NONE) where.fail("is encrypted");
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
      where.fail(
          fmt::format("compression method {}, expected stored (0) or deflate (8)", st.comp_method));
    }
    if (st.size > limits.max_entry_bytes) {
      where.fail(fmt::format("uncompressed size {} bytes is over the cap of {} bytes per entry",
                             st.size, limits.max_entry_bytes));
    }
    if (st.size > limits.max_total_bytes - std::min(total, limits.max_total_bytes)) {
      fail(file, fmt::format("entries up to '{}' hold more than the cap of {} bytes in total",
                             printable(m.name), limits.max_total_bytes));
    }
    total += st.size;
    members.push_back(std::move(m));
  }

  std::vector<NpzEntry> out;
  out.reserve(members.size());
  for (const Member& m : members) {
    const EntryWhere where{file, m.name};
    const std::vector<std::uint8_t> data = read_member(za.get(), m, where);
    out.push_back({m.name.substr(0, m.name.size() - 4), parse_npy(data, where, limits)});
  }
  return out;
}

std::vector<std::uint8_t> read_npz_file(const std::filesystem::path& path,
                                        const NpzLimits& limits) {
  // The members' caps bound the file too: a zip adds headers (at most ~128 KiB for each member
  // and the comment) and deflate can grow incompressible data a little.
  const std::uint64_t overhead =
      (std::uint64_t{limits.max_entries} + 1) * (std::uint64_t{256} << 10);
  const std::uint64_t cap = limits.max_total_bytes + limits.max_total_bytes / 8 + overhead;
  try {
    return read_file(path, cap);
  } catch (const FileError& e) {
    throw ModelFileError(e.what());
  }
}

std::vector<NpzEntry> load_npz(const std::filesystem::path& path, const NpzLimits& limits) {
  return load_npz_bytes(read_npz_file(path, limits), path.string(), limits);
}

const NpzEntry* find_entry(std::span<const NpzEntry> entries, std::string_view name) {
  for (const NpzEntry& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

const Tensor& require_tensor(std::span<const NpzEntry> entries, std::string_view name,
                             const Shape& shape, std::string_view file,
                             std::string_view needed_by) {
  const NpzEntry* e = find_entry(entries, name);
  if (!e)
    fail(file, fmt::format("has no array {}; {} needs one of shape {}", name, needed_by, shape));
  const auto* t = std::get_if<Tensor>(&e->value);
  if (!t) {
    fail(file,
         fmt::format("{} is a string; {} needs an array of shape {}", name, needed_by, shape));
  }
  if (t->shape() != shape) {
    fail(file,
         fmt::format("array {} has shape {}, {} needs {}", name, t->shape(), needed_by, shape));
  }
  return *t;
}

const std::string& require_string(std::span<const NpzEntry> entries, std::string_view name,
                                  std::string_view file) {
  const NpzEntry* e = find_entry(entries, name);
  if (!e) fail(file, fmt::format("has no string entry {}", name));
  const auto* s = std::get_if<std::string>(&e->value);
  if (!s) fail(file, fmt::format("{} is an array, expected a string", name));
  return *s;
}

}  // namespace stepgrad
