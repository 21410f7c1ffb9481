// The IDX reader against every malformed input of R9-R12 in docs/reliability.md (small fixtures
// made here), the fuzzer's regression inputs (R17), the splits, and the real MNIST files (R13) when
// they are present.
#include <zlib.h>

#include <stdlib.h>        // mkdtemp (POSIX)
#include <sys/resource.h>  // getrusage
#include <sys/stat.h>      // mkfifo, stat

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <stepgrad/autodiff/random.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/io/subset.hpp>
#include "common/temp_dir.hpp"
#include "fuzz/idx_target.hpp"

namespace fs = std::filesystem;
using namespace stepgrad;
using stepgrad::testing::TempDir;

namespace {

using Bytes = std::vector<std::uint8_t>;

// ---- Fixtures ----

void put_u32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

/// An IDX file: magic 00 00, type code, dimension count, big-endian dimensions, payload.
Bytes idx(const std::vector<std::uint32_t>& dims, const Bytes& payload, std::uint8_t type = 0x08) {
  Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) put_u32(b, d);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

/// n pseudo-random bytes (a fixed LCG), so that gzip has something to compress.
Bytes noise(std::size_t n, std::uint32_t seed = 1) {
  Bytes b(n);
  for (auto& v : b) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<std::uint8_t>(seed >> 24);
  }
  return b;
}

Bytes images_file(std::uint32_t n, std::uint32_t rows = 28, std::uint32_t cols = 28) {
  return idx({n, rows, cols}, noise(std::size_t{n} * rows * cols, n));
}

Bytes labels_file(std::uint32_t n, std::uint32_t first = 0) {
  Bytes labels(n);
  for (std::uint32_t i = 0; i < n; ++i) labels[i] = static_cast<std::uint8_t>((first + i * 7) % 10);
  return idx({n}, labels);
}

/// A gzip stream of `parts` in order, fed to deflate one part at a time (so a huge run of
/// zeros never has to sit in memory).
Bytes gzip_parts(const std::vector<std::pair<const Bytes*, std::size_t>>& parts, int level = 6) {
  z_stream s{};
  BOOST_REQUIRE(deflateInit2(&s, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out;
  std::array<std::uint8_t, 1 << 16> buf{};
  auto pump = [&](int flush) {
    int rc = Z_OK;
    do {
      s.next_out = buf.data();
      s.avail_out = static_cast<uInt>(buf.size());
      rc = deflate(&s, flush);
      BOOST_REQUIRE(rc != Z_STREAM_ERROR);
      out.insert(out.end(), buf.data(), buf.data() + (buf.size() - s.avail_out));
    } while (s.avail_out == 0);
    return rc;
  };
  for (const auto& part : parts) {
    for (std::size_t k = 0; k < part.second; ++k) {  // part.second repetitions
      s.next_in = const_cast<Bytef*>(part.first->data());
      s.avail_in = static_cast<uInt>(part.first->size());
      pump(Z_NO_FLUSH);
    }
  }
  BOOST_REQUIRE(pump(Z_FINISH) == Z_STREAM_END);
  deflateEnd(&s);
  return out;
}

Bytes gzip(const Bytes& b, int level = 6) { return gzip_parts({{&b, 1}}, level); }

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// The decompressed content of a gzip file, through zlib's gzread (not the reader under test).
Bytes gunzip(const fs::path& p) {
  gzFile f = gzopen(p.c_str(), "rb");
  BOOST_REQUIRE(f != nullptr);
  Bytes out;
  std::array<std::uint8_t, 1 << 16> buf{};
  int n = 0;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) {
    out.insert(out.end(), buf.data(), buf.data() + n);
  }
  BOOST_REQUIRE(n == 0);
  BOOST_REQUIRE(gzclose(f) == Z_OK);
  return out;
}

Bytes read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// ---- Assertions ----

/// f() must throw a DataError whose message is one line, starts with `name: `, says what was
/// expected and found, and contains every fragment of `says`.
template <class F>
boost::test_tools::predicate_result rejects(F f, const std::string& name,
                                            const std::vector<std::string>& says) {
  boost::test_tools::predicate_result r(false);
  try {
    f();
    r.message() << "accepted, but should fail with: " << says.front();
    return r;
  } catch (const DataError& e) {
    const std::string m = e.what();
    const bool shape = m.rfind(name + ": ", 0) == 0 && m.find('\n') == std::string::npos &&
                       m.find("expected") != std::string::npos &&
                       m.find("found") != std::string::npos;
    const bool all = std::all_of(says.begin(), says.end(), [&](const std::string& s) {
      return m.find(s) != std::string::npos;
    });
    if (shape && all) return true;
    r.message() << "message \"" << m << "\" lacks one of:";
    for (const auto& s : says) r.message() << " \"" << s << "\"";
    return r;
  }
}

boost::test_tools::predicate_result parse_rejects(const Bytes& bytes,
                                                  const std::vector<std::string>& says) {
  return rejects([&] { parse_idx(bytes, "fixture"); }, "fixture", says);
}

/// The process's peak resident set so far, in bytes.
std::uint64_t peak_rss() {
  struct rusage u {};
  BOOST_REQUIRE(::getrusage(RUSAGE_SELF, &u) == 0);
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;  // Linux: kilobytes
}

/// Extends the file at `p` to `size` bytes without writing them (a sparse file); whether the
/// file system kept it sparse (it holds less than 64 MiB of it).
bool make_sparse(const fs::path& p, std::uint64_t size) {
  fs::resize_file(p, size);
  struct stat st {};
  BOOST_REQUIRE(::stat(p.c_str(), &st) == 0);
  return static_cast<std::uint64_t>(st.st_blocks) * 512 < (std::uint64_t{64} << 20);
}

/// read_idx(p) must fail with a DataError that says all of `says`, in under a second and with
/// the process's peak memory growing by less than 100 MB (when `sparse`: else the file system
/// wrote the file out, and the page cache may be charged to us).
void rejects_at_once(const fs::path& p, const std::vector<std::string>& says, bool sparse) {
  const std::uint64_t rss_before = peak_rss();
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(rejects([&] { read_idx(p); }, p.string(), says));
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  BOOST_TEST(took.count() < 1.0, "rejected in " << took.count() << " s");
  if (!sparse) {
    BOOST_TEST_MESSAGE("the file system cannot hold a sparse file: memory not checked");
    return;
  }
  const std::uint64_t grew = peak_rss() - rss_before;
  BOOST_TEST(grew < (std::uint64_t{100} << 20), "peak RSS grew by " << grew << " bytes");
}

// ---- Real data ----

const std::array<const char*, 4> canonical = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/// A folder holding all four files with `suffix` ("" raw, ".gz").
bool has_all(const fs::path& dir, const std::string& suffix) {
  std::error_code ec;
  return std::all_of(canonical.begin(), canonical.end(), [&](const char* name) {
    return fs::is_regular_file(dir / (std::string(name) + suffix), ec);
  });
}

/// Where the real files are: data/mnist (what scripts/fetch-mnist fills), the folder named by
/// STEPGRAD_MNIST_MIRROR, or ../shared/data/mnist (CI's copy beside the clone).
std::vector<fs::path> candidate_dirs() {
  std::vector<fs::path> dirs{"data/mnist"};
  if (const char* m = std::getenv("STEPGRAD_MNIST_MIRROR"); m != nullptr && *m != '\0') {
    dirs.emplace_back(m);
  }
  dirs.emplace_back("../shared/data/mnist");
  return dirs;
}

std::optional<fs::path> real_dir(const std::string& suffix) {
  for (const fs::path& d : candidate_dirs()) {
    if (has_all(d, suffix)) return d;
  }
  return std::nullopt;
}

std::optional<fs::path> any_real_dir() {
  if (auto d = real_dir("")) return d;
  return real_dir(".gz");
}

/// Boost.Test precondition: the real MNIST is somewhere. A skipped case says so on stderr, so a
/// machine without the data never looks as if it had checked it.
struct RealDataPresent {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    if (any_real_dir()) return true;
    std::cerr << "mnist: real MNIST not found in data/mnist, $STEPGRAD_MNIST_MIRROR or "
                 "../shared/data/mnist: SKIPPING the real-data checks (run scripts/fetch-mnist)\n";
    boost::test_tools::assertion_result r(false);
    r.message() << "real MNIST files not found (run scripts/fetch-mnist)";
    return r;
  }
};

double mean(const Bytes& v) {
  return static_cast<double>(std::accumulate(v.begin(), v.end(), std::uint64_t{0})) /
         static_cast<double>(v.size());
}

std::array<std::size_t, 10> label_counts(const Bytes& labels) {
  std::array<std::size_t, 10> c{};
  for (std::uint8_t l : labels) ++c.at(l);
  return c;
}

// ---- R9: malformed headers and payloads, raw and gzip ----

struct BadCase {
  std::string what;
  Bytes bytes;
  std::vector<std::string> says;  // fragments of the message, raw and gzip alike
};

std::vector<BadCase> bad_cases() {
  const Bytes labels10 = labels_file(10);
  const Bytes valid = images_file(2);
  return {
      {"an empty file", {}, {"header: expected at least 4 bytes", "found 0 bytes (empty)"}},
      {"1 byte", {0}, {"header", "found 1 bytes"}},
      {"2 bytes", {0, 0}, {"header", "found 2 bytes"}},
      {"3 bytes", {0, 0, 8}, {"header", "found 3 bytes"}},
      {"wrong magic", {0, 1, 8, 1, 0, 0, 0, 1, 5}, {"magic: expected 00 00", "found 00 01"}},
      {"a text file", {'h', 'e', 'l', 'l', 'o', '\n'}, {"magic", "found 68 65"}},
      {"type code float",
       idx({1}, {0, 0, 0, 0}, 0x0D),
       {"type code: expected 0x08 (unsigned byte)", "found 0x0d (float)"}},
      {"type code 0", idx({1}, {0}, 0x00), {"type code", "found 0x00"}},
      {"zero dimensions", {0, 0, 8, 0}, {"number of dimensions: expected at least 1", "found 0"}},
      {"zero dimensions and a payload", {0, 0, 8, 0, 1, 2, 3}, {"number of dimensions"}},
      {"header shorter than its dimensions",
       {0, 0, 8, 3, 0, 0, 0, 1, 0, 0},
       {"header: expected 16 bytes for 3 dimensions", "found 10 bytes"}},
      {"255 dimensions, no room for them", {0, 0, 8, 255}, {"header: expected 1024 bytes"}},
      {"a zero dimension",
       idx({2, 0, 28}, {}),
       {"dimension 2 of 3: expected at least 1", "found 0"}},
      {"a zero count", idx({0}, {}), {"dimension 1 of 1"}},
      {"dimensions whose product overflows 64 bits",
       idx({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {1, 2, 3}),
       {"size: expected a product of dimensions that fits in 64 bits",
        "4294967295 x 4294967295 x 4294967295"}},
      {"a product of exactly 2^64", idx({65536, 65536, 65536, 65536}, {}), {"size"}},
      // Below 2^64 but far beyond the file: rejected before anything is allocated (a try to
      // allocate 2^48 bytes would throw std::bad_alloc or stop ASan, and fail this test).
      {"a claim of 2^48 bytes",
       idx({65536, 65536, 65536}, {1, 2, 3, 4}),
       {"payload: expected", "281474976710656"}},
      {"a claim of 2^64 - 2^33 + 1 bytes", idx({0xFFFFFFFF, 0xFFFFFFFF}, {1}), {"payload"}},
      {"payload one byte short",
       Bytes(labels10.begin(), labels10.end() - 1),
       {"payload: expected 10 bytes after the 8-byte header", "found 9"}},
      {"payload one byte too long",
       concat(labels10, {0}),
       {"payload: expected 10 bytes after the 8-byte header"}},
      {"images one byte too long", concat(valid, {0}), {"payload: expected 1568 bytes"}},
      // The gzip reader undoes one layer; the second is what a raw read of gzip data sees.
      {"a gzip file read as raw (compressed twice)",
       gzip(gzip(labels10)),
       {"magic: expected 00 00", "found 1f 8b (gzip data where raw IDX was expected"}},
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mnist)

// ---- Valid files ----

BOOST_AUTO_TEST_CASE(a_valid_file_parses_raw_and_gzip_to_the_same_array) {
  const Bytes file = images_file(3);
  const IdxArray raw = parse_idx(file, "raw");
  const IdxArray gz = parse_idx(gzip(file), "gz");
  BOOST_TEST(raw.dims == (std::vector<std::size_t>{3, 28, 28}), boost::test_tools::per_element());
  BOOST_TEST(raw.data.size() == 3u * 784u);
  BOOST_TEST(std::equal(raw.data.begin(), raw.data.end(), file.begin() + 16, file.end()));
  BOOST_TEST(gz.dims == raw.dims, boost::test_tools::per_element());
  BOOST_TEST(gz.data == raw.data);
}

BOOST_AUTO_TEST_CASE(gzip_is_detected_by_content_not_by_file_name) {
  TempDir dir("mnist");
  const Bytes images = images_file(2);
  const Bytes labels = labels_file(2);
  // gzip bytes under raw names, raw bytes under .gz names
  const ImageSet a = load_idx_pair(dir.write("imgs", gzip(images)), dir.write("lbls.gz", labels));
  const ImageSet b = load_idx_pair(dir.write("imgs.gz", images), dir.write("lbls", gzip(labels)));
  BOOST_TEST(a.size() == 2u);
  BOOST_TEST(a.pixels == b.pixels);
  BOOST_TEST(a.labels == b.labels);
  BOOST_TEST(a.labels == Bytes(labels.begin() + 8, labels.end()));
}

BOOST_AUTO_TEST_CASE(a_honest_stream_may_inflate_far_beyond_its_compressed_size) {
  // 100 zero images: 78,400 bytes from a few hundred compressed; the 1032:1 bound lets it in.
  const Bytes file = idx({100, 28, 28}, Bytes(78400, 0));
  const Bytes gz = gzip(file, 9);
  BOOST_TEST(gz.size() * 100 < file.size());
  BOOST_TEST(parse_idx(gz, "zeros").data == Bytes(78400, 0));
}

// ---- R9 (the cases are in bad_cases() above) ----

BOOST_AUTO_TEST_CASE(every_malformed_file_is_rejected_raw_and_gzip_with_its_field_named) {
  for (const BadCase& c : bad_cases()) {
    BOOST_TEST_CONTEXT(c.what) {
      BOOST_TEST(parse_rejects(c.bytes, c.says));
      BOOST_TEST(parse_rejects(gzip(c.bytes), c.says));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_raw_file_says_whether_it_is_truncated_or_too_long) {
  const Bytes labels10 = labels_file(10);
  BOOST_TEST(parse_rejects(Bytes(labels10.begin(), labels10.end() - 1),
                           {"found 9 (the file is truncated)"}));
  BOOST_TEST(parse_rejects(concat(labels10, {0, 0}), {"found 12 (unexpected trailing bytes)"}));
}

BOOST_AUTO_TEST_CASE(a_file_on_disk_is_named_in_the_message) {
  TempDir dir("mnist");
  const fs::path p = dir.write("broken-idx1-ubyte", Bytes{0, 0, 9, 1});
  BOOST_TEST(rejects([&] { read_idx(p); }, p.string(), {"type code", "0x09 (signed byte)"}));
  // A path that is not a readable file says so in the words of io/files.hpp, for every reader.
  const fs::path missing = dir.path() / "missing";
  BOOST_CHECK_EXCEPTION(read_idx(missing), DataError, [&](const DataError& e) {
    return std::string(e.what()) ==
           missing.string() + ": cannot open it: No such file or directory";
  });
  BOOST_CHECK_EXCEPTION(read_idx(dir.path()), DataError, [&](const DataError& e) {
    return std::string(e.what()) == dir.path().string() + ": is a folder, not a file";
  });
}

// ---- R21: memory and time bounded by the header, not by the file's size ----

constexpr std::uint64_t k20GiB = std::uint64_t{20} << 30;

BOOST_AUTO_TEST_CASE(a_raw_file_far_longer_than_its_header_is_rejected_at_once) {
  TempDir dir("mnist");
  // A valid header for 60,000 images, then 20 GiB of holes: the size mismatch is known from the
  // header and the file's size alone, before any payload is read.
  const fs::path p = dir.write("train-images-idx3-ubyte", idx({60000, 28, 28}, {}));
  const bool sparse = make_sparse(p, k20GiB);
  rejects_at_once(p,
                  {"payload: expected 47040000 bytes after the 16-byte header",
                   "found " + std::to_string(k20GiB - 16) + " (unexpected trailing bytes)"},
                  sparse);
}

BOOST_AUTO_TEST_CASE(a_gzip_file_followed_by_a_huge_tail_is_rejected_at_once) {
  TempDir dir("mnist");
  const Bytes gz = gzip(images_file(2));
  const fs::path p = dir.write("train-images-idx3-ubyte.gz", gz);
  const bool sparse = make_sparse(p, k20GiB);
  rejects_at_once(p,
                  {"end of file: expected the end of the gzip stream",
                   "found " + std::to_string(k20GiB - gz.size()) + " more bytes"},
                  sparse);
}

BOOST_AUTO_TEST_CASE(a_header_with_the_wrong_number_of_dimensions_is_named_before_its_payload) {
  TempDir dir("mnist");
  const fs::path labels = dir.write("labels", labels_file(3));
  // Three images' pixels behind a 1-D header that claims 3 bytes: the shape is what is wrong,
  // not the byte count, raw or gzip.
  const Bytes flat = idx({3}, noise(3 * 784));
  for (const fs::path& images : {dir.write("images", flat), dir.write("images.gz", gzip(flat))}) {
    BOOST_TEST(
        rejects([&] { load_idx_pair(images, labels); }, images.string(),
                {"number of dimensions: expected 3 (count, rows, columns) for images", "found 1"}));
  }
  const Bytes cube = idx({3, 1, 1}, Bytes(10, 1));
  const fs::path images = dir.write("images3", images_file(3));
  for (const fs::path& bad : {dir.write("cube", cube), dir.write("cube.gz", gzip(cube))}) {
    BOOST_TEST(rejects([&] { load_idx_pair(images, bad); }, bad.string(),
                       {"number of dimensions: expected 1 (count) for labels", "found 3"}));
  }
}

BOOST_AUTO_TEST_CASE(a_corrupt_byte_that_inflates_past_the_claim_is_reported_as_corrupt_data) {
  // Some flipped bytes make inflate emit more than the header claims before zlib notices the
  // damage (a changed dimension, a changed length code): the stream is to blame, not the header.
  const Bytes zeros = idx({3, 28, 28}, Bytes(3 * 784, 0));
  Bytes labels(1000);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  std::size_t corrupt = 0;
  for (const Bytes& file : {images_file(2), idx({1000}, labels), zeros}) {
    const Bytes gz = gzip(file);
    for (std::size_t i = 10; i + 8 < gz.size(); ++i) {
      for (const int flip : {0xFF, 0x01, 0x80}) {
        Bytes bad = gz;
        bad[i] = static_cast<std::uint8_t>(bad[i] ^ flip);
        BOOST_TEST_CONTEXT("byte " << i << " of " << gz.size() << " flipped by " << flip) {
          try {
            parse_idx(bad, "fixture");  // some bits are padding, or pick an unused code
          } catch (const DataError& e) {
            const std::string m = e.what();
            BOOST_TEST(m.find("goes on past") == std::string::npos, m);
            if (m.find("gzip stream: expected valid deflate data") != std::string::npos) ++corrupt;
          }
        }
      }
    }
  }
  BOOST_TEST(corrupt > 0u);
}

BOOST_AUTO_TEST_CASE(a_fifo_or_folder_under_an_idx_name_is_named_at_once,
                     *boost::unit_test::timeout(20)) {
  TempDir dir("mnist");
  dir.write("train-labels-idx1-ubyte", labels_file(3));
  dir.write("t10k-images-idx3-ubyte", images_file(3));
  dir.write("t10k-labels-idx1-ubyte", labels_file(3));
  // No writer will ever open the FIFO: a reader that opened it blocking would hang here.
  const fs::path fifo = dir.path() / "train-images-idx3-ubyte";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  BOOST_CHECK_EXCEPTION(
      load_split(dir.path(), SplitKind::standard), DataError, [&](const DataError& e) {
        return std::string(e.what()) == fifo.string() + ": is a FIFO (named pipe), not a file";
      });
  fs::remove(fifo);
  const fs::path folder = dir.path() / "train-images-idx3-ubyte.gz";
  fs::create_directory(folder);
  BOOST_CHECK_EXCEPTION(
      load_split(dir.path(), SplitKind::standard), DataError, [&](const DataError& e) {
        return std::string(e.what()) == folder.string() + ": is a folder, not a file";
      });
}

// ---- R10: truncation at every length ----

BOOST_AUTO_TEST_CASE(a_valid_file_truncated_to_any_length_is_rejected_raw_and_gzip) {
  for (const Bytes& file : {images_file(2), labels_file(10)}) {
    BOOST_REQUIRE_NO_THROW(parse_idx(file, "fixture"));
    for (std::size_t n = 0; n < file.size(); ++n) {
      BOOST_TEST_CONTEXT("raw, " << n << " of " << file.size() << " bytes") {
        BOOST_TEST(parse_rejects(Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n)),
                                 {""}));
      }
    }
    const Bytes gz = gzip(file);
    BOOST_REQUIRE_NO_THROW(parse_idx(gz, "fixture"));
    for (std::size_t n = 0; n < gz.size(); ++n) {
      BOOST_TEST_CONTEXT("gzip, " << n << " of " << gz.size() << " bytes") {
        BOOST_TEST(
            parse_rejects(Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(n)), {""}));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_gzip_file_cut_inside_its_trailer_says_so) {
  const Bytes gz = gzip(labels_file(10));
  BOOST_TEST(parse_rejects(Bytes(gz.begin(), gz.end() - 3),
                           {"gzip stream: expected a complete stream", "cut off"}));
}

// ---- R11: gzip integrity ----

BOOST_AUTO_TEST_CASE(a_flipped_byte_anywhere_in_the_deflate_body_is_rejected) {
  const Bytes gz = gzip(images_file(2));
  // 10-byte gzip header (no optional fields from zlib), deflate body, 8-byte trailer.
  for (std::size_t i = 10; i + 8 < gz.size(); ++i) {
    Bytes bad = gz;
    bad[i] ^= 0xFF;
    BOOST_TEST_CONTEXT("byte " << i << " of " << gz.size()) {
      BOOST_TEST(parse_rejects(bad, {""}));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_in_the_crc_or_length_is_rejected) {
  const Bytes gz = gzip(images_file(2));
  for (std::size_t i = gz.size() - 8; i < gz.size(); ++i) {
    Bytes bad = gz;
    bad[i] ^= 0x01;
    const bool crc = i < gz.size() - 4;
    BOOST_TEST_CONTEXT("trailer byte " << i - (gz.size() - 8)) {
      BOOST_TEST(parse_rejects(
          bad, {"gzip stream", crc ? "incorrect data check" : "incorrect length check"}));
    }
  }
}

BOOST_AUTO_TEST_CASE(anything_after_the_gzip_stream_is_rejected) {
  const Bytes gz = gzip(labels_file(10));
  BOOST_TEST(parse_rejects(
      concat(gz, {0}), {"end of file: expected the end of the gzip stream", "found 1 more bytes"}));
  BOOST_TEST(parse_rejects(concat(gz, {'j', 'u', 'n', 'k'}), {"found 4 more bytes"}));
  // zlib's gzread would read a second member as more payload; here it is trailing data.
  BOOST_TEST(parse_rejects(concat(gz, gzip(Bytes{1, 2, 3})), {"end of file", "more bytes"}));
  BOOST_TEST(parse_rejects(concat(gz, gz), {"end of file"}));
}

BOOST_AUTO_TEST_CASE(a_decompression_bomb_is_stopped_right_after_the_size_it_claims) {
  // The header claims one 28x28 image; the stream then inflates 256 MiB of zeros, and is cut
  // off far past the claim. Stopping at the claim + 1 byte reports the overrun; a reader that
  // inflated everything would meet the cut-off first and report that instead.
  const Bytes head = images_file(1);
  const Bytes zeros(std::size_t{1} << 20, 0);
  const Bytes bomb = gzip_parts({{&head, 1}, {&zeros, 256}}, 9);
  BOOST_TEST(bomb.size() < (std::size_t{1} << 20));  // 256 MiB behind less than 1 MiB
  const std::string says = "payload: expected 784 bytes after the 16-byte header";
  BOOST_TEST(parse_rejects(bomb, {says, "goes on past the size in the header"}));
  BOOST_TEST(parse_rejects(
      Bytes(bomb.begin(), bomb.begin() + static_cast<std::ptrdiff_t>(bomb.size() / 2)),
      {says, "goes on past"}));
}

BOOST_AUTO_TEST_CASE(a_header_claiming_more_than_deflate_can_hold_is_rejected_before_inflating) {
  // 60,000 x 28 x 28 claimed by a 100-byte stream: deflate expands at most 1032:1.
  const Bytes gz = gzip(idx({60000, 28, 28}, noise(64)));
  BOOST_TEST(parse_rejects(gz, {"payload: expected at most", "deflate expands at most 1032:1",
                                "found a header that claims 47040000"}));
}

BOOST_AUTO_TEST_CASE(a_stream_that_ends_before_its_claim_says_how_much_it_had) {
  const Bytes gz = gzip(idx({5, 28, 28}, noise(784 * 3)));
  BOOST_TEST(parse_rejects(
      gz, {"payload: expected 3920 bytes", "found 2352 (the gzip stream ends early)"}));
}

// ---- R12: images and labels together ----

BOOST_AUTO_TEST_CASE(images_and_labels_must_match_in_count_size_and_range) {
  TempDir dir("mnist");
  const fs::path images3 = dir.write("images3", images_file(3));
  const fs::path labels3 = dir.write("labels3", labels_file(3));
  BOOST_TEST(load_idx_pair(images3, labels3).size() == 3u);

  const fs::path labels4 = dir.write("labels4", labels_file(4));
  BOOST_TEST(
      rejects([&] { load_idx_pair(images3, labels4); }, labels4.string(),
              {"count: expected 3 labels, one per image in " + images3.string(), "found 4"}));
  const fs::path label10 = dir.write("label10", idx({3}, {1, 9, 10}));
  BOOST_TEST(rejects([&] { load_idx_pair(images3, label10); }, label10.string(),
                     {"label of item 2: expected 0-9", "found 10"}));
  const fs::path label255 = dir.write("label255", idx({3}, {255, 0, 0}));
  BOOST_TEST(rejects([&] { load_idx_pair(images3, label255); }, label255.string(),
                     {"label of item 0", "found 255"}));
  const fs::path small = dir.write("small", images_file(3, 27, 28));
  BOOST_TEST(rejects([&] { load_idx_pair(small, labels3); }, small.string(),
                     {"image size: expected 28 x 28", "found 27 x 28"}));
  const fs::path tall = dir.write("tall", images_file(3, 28, 29));
  BOOST_TEST(rejects([&] { load_idx_pair(tall, labels3); }, tall.string(), {"found 28 x 29"}));
  // Each file read as the other kind.
  BOOST_TEST(rejects([&] { load_idx_pair(labels3, labels3); }, labels3.string(),
                     {"number of dimensions: expected 3", "found 1"}));
  BOOST_TEST(rejects([&] { load_idx_pair(images3, images3); }, images3.string(),
                     {"number of dimensions: expected 1", "found 3"}));
  const fs::path flat = dir.write("flat", idx({3, 784}, noise(3 * 784)));
  BOOST_TEST(rejects([&] { load_idx_pair(flat, labels3); }, flat.string(),
                     {"number of dimensions", "found 2"}));
}

// ---- R17: every input the fuzzer ever failed on, and its seed corpus ----

BOOST_AUTO_TEST_CASE(every_fuzzer_regression_input_parses_or_fails_cleanly) {
  std::size_t n = 0;
  for (const char* folder : {"tests/fuzz/regressions/idx", "tests/fuzz/corpus/idx"}) {
    BOOST_REQUIRE_MESSAGE(fs::is_directory(folder),
                          folder << " not found (the test runs from the project root)");
    for (const fs::directory_entry& e : fs::directory_iterator(folder)) {
      BOOST_TEST_CONTEXT(e.path().string()) {
        const Bytes bytes = read_file(e.path());
        BOOST_CHECK_NO_THROW(fuzz::idx_target(bytes));  // a DataError is caught inside
        ++n;
      }
    }
  }
  BOOST_TEST(n > 5u);  // the seed corpus alone has more
}

// ---- Subsets and splits, on a small fixture folder ----

struct FixtureFolder {
  TempDir dir{"mnist"};
  FixtureFolder() {
    dir.write("train-images-idx3-ubyte", images_file(30));
    dir.write("train-labels-idx1-ubyte.gz", gzip(labels_file(30)));
    dir.write("t10k-images-idx3-ubyte.gz", gzip(images_file(10)));
    dir.write("t10k-labels-idx1-ubyte", labels_file(10, 3));
  }
};

BOOST_FIXTURE_TEST_CASE(the_standard_split_keeps_the_files_as_they_are, FixtureFolder) {
  const Split s = load_split(dir.path(), SplitKind::standard);
  BOOST_TEST(s.train.size() == 30u);
  BOOST_TEST(s.test.size() == 10u);
  const Bytes train_pixels = images_file(30);
  const Bytes test_labels = labels_file(10, 3);
  for (std::size_t i = 0; i < 30; ++i) BOOST_TEST(s.train.label(i) == (i * 7) % 10);
  for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(s.test.label(i) == test_labels[8 + i]);
  BOOST_TEST(std::equal(s.train.pixels(29).begin(), s.train.pixels(29).end(),
                        train_pixels.begin() + 16 + 29 * 784));
  BOOST_TEST(s.description.find("standard split") != std::string::npos);
  BOOST_TEST(s.description.find("30 train / 10 test") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(the_article_split_pools_both_files_and_permutes_with_seed_42,
                        FixtureFolder) {
  const Split s = load_split(dir.path(), SplitKind::article);
  // ceil(0.3 x 40) = 12 test items: the first 12 of the permutation; the rest train.
  BOOST_REQUIRE(s.test.size() == 12u);
  BOOST_REQUIRE(s.train.size() == 28u);
  const std::vector<std::size_t> perm = RandomState(42).permutation(40);
  for (std::size_t i = 0; i < 12; ++i) BOOST_TEST(s.test.index(i) == perm[i]);
  for (std::size_t i = 0; i < 28; ++i) BOOST_TEST(s.train.index(i) == perm[12 + i]);
  std::set<std::size_t> all;
  for (std::size_t i = 0; i < 12; ++i) all.insert(s.test.index(i));
  for (std::size_t i = 0; i < 28; ++i) all.insert(s.train.index(i));
  BOOST_TEST(all.size() == 40u);  // a partition of the pool
  // Pool order is train file then test file: item 30 + k is test file item k.
  const Split standard = load_split(dir.path(), SplitKind::standard);
  for (std::size_t i = 0; i < 28; ++i) {
    const std::size_t p = s.train.index(i);
    const std::uint8_t expected = p < 30 ? standard.train.label(p) : standard.test.label(p - 30);
    BOOST_TEST(s.train.label(i) == expected);
  }
}

BOOST_FIXTURE_TEST_CASE(a_limit_keeps_the_first_training_samples, FixtureFolder) {
  const Split full = load_split(dir.path(), SplitKind::article);
  const Split s = load_split(dir.path(), SplitKind::article, 5);
  BOOST_TEST(s.train.size() == 5u);
  BOOST_TEST(s.test.size() == 12u);
  for (std::size_t i = 0; i < 5; ++i) BOOST_TEST(s.train.index(i) == full.train.index(i));
  BOOST_TEST(s.description.find("first 5 of 28") != std::string::npos);
  BOOST_CHECK_THROW(load_split(dir.path(), SplitKind::article, 29), std::out_of_range);
  BOOST_TEST(load_split(dir.path(), SplitKind::standard, 30).train.size() == 30u);
}

BOOST_FIXTURE_TEST_CASE(samples_become_tensors_scaled_by_255, FixtureFolder) {
  const Split s = load_split(dir.path(), SplitKind::standard);
  Tensor x;
  s.train.input(4, x);
  BOOST_TEST((x.shape() == Shape::vector(784)));
  const double* data = x.data();
  for (std::size_t r = 0; r < 784; ++r) BOOST_TEST(x[r] == s.train.pixels(4)[r] / 255.0);
  s.train.input(5, x);
  BOOST_TEST(x.data() == data);  // resized in place, no new allocation
  BOOST_TEST(x[100] == s.train.pixels(5)[100] / 255.0);

  Tensor y;
  s.train.one_hot(3, y);  // label (3 * 7) % 10 = 1
  BOOST_TEST((y.shape() == Shape::vector(10)));
  BOOST_TEST(sum(y) == 1.0);
  BOOST_TEST(y[1] == 1.0);

  Tensor X;
  Tensor Y;
  const std::vector<std::size_t> three = {2, 3, 4};
  s.train.inputs(three, X);
  s.train.one_hots(three, Y);
  BOOST_TEST((X.shape() == Shape::matrix(784, 3)));
  BOOST_TEST((Y.shape() == Shape::matrix(10, 3)));
  for (std::size_t k = 0; k < 3; ++k) {
    s.train.input(2 + k, x);
    s.train.one_hot(2 + k, y);
    for (std::size_t r = 0; r < 784; ++r) BOOST_TEST(X(r, k) == x[r]);
    for (std::size_t r = 0; r < 10; ++r) BOOST_TEST(Y(r, k) == y[r]);
  }
  const std::vector<std::size_t> past_the_end = {28, 29, 30};
  BOOST_CHECK_THROW(s.train.inputs(past_the_end, X), std::out_of_range);
  BOOST_CHECK_THROW(s.train.one_hots(past_the_end, Y), std::out_of_range);
  BOOST_CHECK_THROW(s.test.input(10, x), std::out_of_range);
  BOOST_CHECK_THROW(s.test.label(10), std::out_of_range);
  BOOST_CHECK_THROW(Subset(nullptr, {0}), std::out_of_range);
  BOOST_TEST(s.train.first(7).size() == 7u);
  BOOST_TEST(s.train.first(7).label(6) == s.train.label(6));
}

BOOST_AUTO_TEST_CASE(a_missing_folder_or_file_says_how_to_get_the_data) {
  TempDir dir("mnist");
  const fs::path nowhere = dir.path() / "nowhere";
  BOOST_TEST(rejects([&] { load_split(nowhere, SplitKind::standard); }, nowhere.string(),
                     {"folder: expected a folder with the four IDX files", "found nothing",
                      "scripts/fetch-mnist", "--data DIR"}));
  dir.write("train-images-idx3-ubyte", images_file(1));
  BOOST_TEST(rejects(
      [&] { load_split(dir.path(), SplitKind::article); }, dir.path().string(),
      {"expected train-labels-idx1-ubyte or train-labels-idx1-ubyte.gz", "scripts/fetch-mnist"}));
  BOOST_TEST(rejects([&] { load_split(nowhere, SplitKind::standard, 0, DatasetKind::fashion); },
                     nowhere.string(), {"scripts/fetch-mnist --dataset fashion"}));
}

// ---- R13: the real files ----

BOOST_AUTO_TEST_CASE(real_mnist_has_the_published_counts_labels_and_mean,
                     *boost::unit_test::precondition(RealDataPresent())) {
  const fs::path dir = *any_real_dir();
  BOOST_TEST_MESSAGE("real MNIST from " << dir);
  const Split s = load_split(dir, SplitKind::standard);
  BOOST_REQUIRE(s.train.size() == 60000u);
  BOOST_REQUIRE(s.test.size() == 10000u);
  Bytes train_labels(60000);
  Bytes test_labels(10000);
  Bytes train_pixels;
  Bytes test_pixels;
  for (std::size_t i = 0; i < 60000; ++i) {
    train_labels[i] = s.train.label(i);
    train_pixels.insert(train_pixels.end(), s.train.pixels(i).begin(), s.train.pixels(i).end());
  }
  for (std::size_t i = 0; i < 10000; ++i) {
    test_labels[i] = s.test.label(i);
    test_pixels.insert(test_pixels.end(), s.test.pixels(i).begin(), s.test.pixels(i).end());
  }
  // Facts from ../shared/data/mnist/SOURCE.md.
  const std::array<std::size_t, 10> train_counts{5923, 6742, 5958, 6131, 5842,
                                                 5421, 5918, 6265, 5851, 5949};
  const std::array<std::size_t, 10> test_counts{980, 1135, 1032, 1010, 982,
                                                892, 958,  1028, 974,  1009};
  BOOST_TEST(label_counts(train_labels) == train_counts, boost::test_tools::per_element());
  BOOST_TEST(label_counts(test_labels) == test_counts, boost::test_tools::per_element());
  BOOST_TEST(std::abs(mean(train_pixels) - 33.3184) < 5e-5);
  BOOST_TEST(std::abs(mean(test_pixels) - 33.7912) < 5e-5);
  const Bytes first_train{5, 0, 4, 1, 9, 2, 1, 3, 1, 4};
  const Bytes first_test{7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
  BOOST_TEST(Bytes(train_labels.begin(), train_labels.begin() + 10) == first_train,
             boost::test_tools::per_element());
  BOOST_TEST(Bytes(test_labels.begin(), test_labels.begin() + 10) == first_test,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(real_mnist_loads_byte_identically_raw_and_gzip,
                     *boost::unit_test::precondition(RealDataPresent())) {
  const std::optional<fs::path> raw = real_dir("");
  const std::optional<fs::path> gz = real_dir(".gz");
  if (raw && gz) {
    // Two independent copies: data/mnist (raw, from fetch-mnist) and the .gz mirror.
    BOOST_TEST_MESSAGE("comparing " << *raw << " with " << *gz);
    for (const auto& [images, labels] :
         {std::pair{canonical[0], canonical[1]}, std::pair{canonical[2], canonical[3]}}) {
      const ImageSet a = load_idx_pair(*raw / images, *raw / labels);
      const ImageSet b =
          load_idx_pair(*gz / (std::string(images) + ".gz"), *gz / (std::string(labels) + ".gz"));
      BOOST_TEST(a.size() == b.size());
      BOOST_TEST((a.pixels == b.pixels));
      BOOST_TEST((a.labels == b.labels));
    }
    return;
  }
  // One copy: re-encode its test files here (zlib's own gzip writer or gzread, not the reader
  // under test) and compare the two loads.
  BOOST_TEST_MESSAGE("one copy of MNIST only: comparing its test files with a re-encoding");
  TempDir tmp;
  const fs::path dir = raw ? *raw : *gz;
  const std::string suffix = raw ? "" : ".gz";
  std::array<fs::path, 2> given;
  std::array<fs::path, 2> other;
  for (std::size_t k = 0; k < 2; ++k) {
    const std::string name = canonical[2 + k];
    given[k] = dir / (name + suffix);
    other[k] = raw ? tmp.write(name + ".gz", gzip(read_file(given[k]), 1))
                   : tmp.write(name, gunzip(given[k]));
  }
  const ImageSet a = load_idx_pair(given[0], given[1]);
  const ImageSet b = load_idx_pair(other[0], other[1]);
  BOOST_TEST(a.size() == 10000u);
  BOOST_TEST((a.pixels == b.pixels));
  BOOST_TEST((a.labels == b.labels));
}

BOOST_AUTO_TEST_CASE(real_mnist_article_split_matches_the_notebook,
                     *boost::unit_test::precondition(RealDataPresent())) {
  const auto start = std::chrono::steady_clock::now();
  const Split s = load_split(*any_real_dir(), SplitKind::article);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  BOOST_TEST_MESSAGE("article split loaded in " << took.count() << " s: " << s.description);
  BOOST_TEST(s.train.size() == 49000u);
  BOOST_TEST(s.test.size() == 21000u);
  // The article's notebook: y_train[2] == 4 and y_train[6] == 2.
  BOOST_TEST(s.train.label(2) == 4);
  BOOST_TEST(s.train.label(6) == 2);
  const std::vector<std::size_t> perm = RandomState(42).permutation(70000);
  BOOST_TEST(s.test.index(0) == perm[0]);
  BOOST_TEST(s.train.index(0) == perm[21000]);
  BOOST_TEST(s.train.index(48999) == perm[69999]);
}

/// Boost.Test precondition: Fashion-MNIST is where stepgrad looks for it by default.
struct FashionPresent {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    const fs::path dir = default_data_dir(DatasetKind::fashion);
    if (has_all(dir, "") || has_all(dir, ".gz")) return true;
    std::cerr << "mnist: Fashion-MNIST not found in " << dir
              << ": SKIPPING its checks (run scripts/fetch-mnist --dataset fashion)\n";
    boost::test_tools::assertion_result r(false);
    r.message() << "Fashion-MNIST not found in " << dir;
    return r;
  }
};

BOOST_AUTO_TEST_CASE(fashion_mnist_loads_from_its_default_folder,
                     *boost::unit_test::precondition(FashionPresent())) {
  const Split s = load_split(default_data_dir(DatasetKind::fashion), SplitKind::standard, 0,
                             DatasetKind::fashion);
  BOOST_TEST_MESSAGE(s.description);
  BOOST_REQUIRE(s.train.size() == 60000u);
  BOOST_REQUIRE(s.test.size() == 10000u);
  Bytes train_labels(60000);
  Bytes test_labels(10000);
  for (std::size_t i = 0; i < 60000; ++i) train_labels[i] = s.train.label(i);
  for (std::size_t i = 0; i < 10000; ++i) test_labels[i] = s.test.label(i);
  // Zalando's set is balanced: 6,000 and 1,000 items per class.
  std::array<std::size_t, 10> train_counts{};
  std::array<std::size_t, 10> test_counts{};
  train_counts.fill(6000);
  test_counts.fill(1000);
  BOOST_TEST(label_counts(train_labels) == train_counts, boost::test_tools::per_element());
  BOOST_TEST(label_counts(test_labels) == test_counts, boost::test_tools::per_element());
  BOOST_TEST(s.description.find("Fashion-MNIST") == 0u);
}

// The explorer's subset file (io/subset.hpp): what pack_subset writes, unpack_subset reads back,
// and a damaged file is refused with a one-line message.
BOOST_AUTO_TEST_CASE(the_explorers_subset_file_reads_back_what_was_packed) {
  auto pool = std::make_shared<ImageSet>();
  for (std::size_t i = 0; i < 5; ++i) {
    for (std::size_t p = 0; p < kImagePixels; ++p)
      pool->pixels.push_back(static_cast<std::uint8_t>((i * 31 + p) % 256));
    pool->labels.push_back(static_cast<std::uint8_t>(9 - i));
  }
  const Subset train(pool, {4, 0, 2});
  const Subset test(pool, {3});
  const Bytes bytes = pack_subset(train, test);
  BOOST_TEST(bytes.size() == 16 + 4 * (4 + kImagePixels + 1));
  const PackedSubset back = unpack_subset(bytes);
  BOOST_REQUIRE(back.train.size() == 3u);
  BOOST_REQUIRE(back.test.size() == 1u);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(back.train.mnist_index[i] == train.index(i));
    BOOST_TEST(back.train.samples.label(i) == train.label(i));
    const auto a = back.train.samples.pixels(i);
    const auto b = train.pixels(i);
    BOOST_TEST(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  }
  BOOST_TEST(back.test.mnist_index[0] == 3u);
  BOOST_TEST(back.test.samples.label(0) == 6);

  const auto refused = [](Bytes b, const std::string& why) {
    try {
      unpack_subset(b);
      BOOST_ERROR("accepted a file that is " << why);
    } catch (const DataError& e) {
      BOOST_TEST(e.what() == why);
    }
  };
  Bytes b = bytes;
  b[0] = 'X';
  refused(b, "data: not a stepgrad MNIST subset (no SGMN header)");
  b = bytes;
  b[4] = 2;
  refused(b, "data: unknown version");
  b = bytes;
  b.pop_back();
  refused(b, "data: the file is short");
  b = bytes;
  b.push_back(0);
  refused(b, "data: trailing bytes after the test set");
  b = bytes;
  b.back() = 10;  // the test image's label
  refused(b, "data: a label is not 0-9");
  b = bytes;
  b[8] = 0xff;  // a training count whose size overflows a 32-bit size_t
  b[9] = 0xff;
  refused(b, "data: the file is short");
}

BOOST_AUTO_TEST_SUITE_END()
