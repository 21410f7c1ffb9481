// .npz files: bit-exact round trips, numpy's header bytes, deterministic and atomic saves, and a
// table of corrupt files built by a zip writer independent of libzip, each with its own message.
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <zlib.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <stepgrad/io/npz.hpp>
#include "common/temp_dir.hpp"

using namespace stepgrad;
using stepgrad::testing::TempDir;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(npz)

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

bool same_bits(const Tensor& a, const Tensor& b) {
  // memcmp of an empty tensor's null data() is undefined, even for 0 bytes
  return a.shape() == b.shape() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), 8 * a.size()) == 0);
}

// The entries of a model file with every kind of value a double can hold.
std::vector<NpzEntry> sample_entries() {
  constexpr double inf = std::numeric_limits<double>::infinity();
  Tensor w0(Shape::matrix(3, 4));
  for (std::size_t i = 0; i < w0.size(); ++i) w0[i] = static_cast<double>(i) * 0.25 - 1.5;
  return {
      {"W0", w0},
      {"special", Tensor::vector({0.0, -0.0, std::numeric_limits<double>::denorm_min(),
                                  -2.2250738585072009e-308, std::numeric_limits<double>::min(),
                                  1e308, -std::numeric_limits<double>::max(), 1.0 / 3.0, inf, -inf,
                                  std::bit_cast<double>(std::uint64_t{0x7ff8000000000123}),
                                  std::bit_cast<double>(std::uint64_t{0xfff0000000000001})})},
      {"scale", Tensor::scalar(-0.0)},
      {"empty", Tensor::zeros(0)},
      {"no_rows", Tensor::zeros(0, 3)},
      {"options", std::string("recipe=fixed activation=sigmoid bias=false seed=42")},
      {"note", std::string("na\xc3\xafve \xe2\x88\x91 \xf0\x9f\x98\x80")},  // naïve ∑ 😀
      {"blank", std::string()},
  };
}

void require_same_entries(const std::vector<NpzEntry>& got, const std::vector<NpzEntry>& want) {
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    BOOST_TEST_CONTEXT("entry " << want[i].name) {
      BOOST_TEST(got[i].name == want[i].name);
      BOOST_REQUIRE_EQUAL(got[i].value.index(), want[i].value.index());
      if (const auto* t = std::get_if<Tensor>(&want[i].value)) {
        BOOST_TEST(same_bits(std::get<Tensor>(got[i].value), *t));
      } else {
        BOOST_TEST(std::get<std::string>(got[i].value) == std::get<std::string>(want[i].value));
      }
    }
  }
}

// ---- An independent zip writer and reader (stored or deflated members, no libzip) -------------

void put(Bytes& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get(const Bytes& b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= std::uint64_t{b.at(at + static_cast<std::size_t>(i))} << (8 * i);
  return v;
}

Bytes deflate_raw(const Bytes& data) {
  z_stream zs{};
  BOOST_REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  BOOST_REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct RawMember {
  RawMember(std::string n, Bytes d, bool deflated = false,
            std::optional<std::uint32_t> declared = std::nullopt)
      : name(std::move(n)), data(std::move(d)), deflate(deflated), declared_size(declared) {}
  std::string name;
  Bytes data;
  bool deflate;
  std::optional<std::uint32_t> declared_size;  // a lie in both headers, when set
};

Bytes make_zip(const std::vector<RawMember>& members) {
  Bytes out, central;
  for (const RawMember& m : members) {
    const Bytes body = m.deflate ? deflate_raw(m.data) : m.data;
    const auto crc = crc32(0, m.data.data(), static_cast<uInt>(m.data.size()));
    const std::uint64_t size = m.declared_size.value_or(static_cast<std::uint32_t>(m.data.size()));
    const std::size_t offset = out.size();
    const auto common = [&](Bytes& b) {
      put(b, 20, 2);                 // version needed
      put(b, 0, 2);                  // flags
      put(b, m.deflate ? 8 : 0, 2);  // method
      put(b, 0, 2);                  // time
      put(b, 0x21, 2);               // date 1980-01-01
      put(b, crc, 4);
      put(b, body.size(), 4);
      put(b, size, 4);
      put(b, m.name.size(), 2);
      put(b, 0, 2);  // extra
    };
    put(out, 0x04034b50, 4);
    common(out);
    out.insert(out.end(), m.name.begin(), m.name.end());
    out.insert(out.end(), body.begin(), body.end());
    put(central, 0x02014b50, 4);
    put(central, 20, 2);  // made by
    common(central);
    put(central, 0, 2);  // comment
    put(central, 0, 2);  // disk
    put(central, 0, 2);  // internal attributes
    put(central, 0, 4);  // external attributes
    put(central, offset, 4);
    central.insert(central.end(), m.name.begin(), m.name.end());
  }
  const std::size_t cd_offset = out.size();
  out.insert(out.end(), central.begin(), central.end());
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, members.size(), 2);
  put(out, members.size(), 2);
  put(out, central.size(), 4);
  put(out, cd_offset, 4);
  put(out, 0, 2);
  return out;
}

struct LocalMember {
  std::string name;
  std::uint16_t method, time, date;
  Bytes data;
};

// The members of a zip of stored members, read from their local headers.
std::vector<LocalMember> local_members(const Bytes& zip) {
  std::vector<LocalMember> out;
  std::size_t at = 0;
  while (get(zip, at, 4) == 0x04034b50) {
    const auto size = static_cast<std::size_t>(get(zip, at + 18, 4));
    const auto name_len = static_cast<std::size_t>(get(zip, at + 26, 2));
    const auto extra_len = static_cast<std::size_t>(get(zip, at + 28, 2));
    const auto* p = zip.data() + at + 30;
    const std::size_t data_at = at + 30 + name_len + extra_len;
    out.push_back({std::string(p, p + name_len), static_cast<std::uint16_t>(get(zip, at + 8, 2)),
                   static_cast<std::uint16_t>(get(zip, at + 10, 2)),
                   static_cast<std::uint16_t>(get(zip, at + 12, 2)),
                   Bytes(zip.begin() + static_cast<std::ptrdiff_t>(data_at),
                         zip.begin() + static_cast<std::ptrdiff_t>(data_at + size))});
    at = data_at + size;
  }
  return out;
}

// An .npy member with any header text (a '\n' is added) and payload.
Bytes npy(std::string_view dict, const Bytes& payload, std::uint8_t major = 1,
          std::uint8_t minor = 0, std::string_view magic = "\x93NUMPY") {
  Bytes out(magic.begin(), magic.end());
  out.push_back(major);
  out.push_back(minor);
  put(out, dict.size() + 1, major == 1 ? 2 : 4);
  out.insert(out.end(), dict.begin(), dict.end());
  out.push_back('\n');
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes f8(std::initializer_list<double> values) {
  Bytes out;
  for (const double v : values) put(out, std::bit_cast<std::uint64_t>(v), 8);
  return out;
}

constexpr std::string_view dict_2x3 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
const Bytes six = f8({1, 2, 3, 4, 5, 6});

/// The message load_npz_bytes throws, or "(loaded)"; other exception types fail the test.
std::string load_error(const Bytes& bytes, const NpzLimits& limits = {}) {
  try {
    (void)load_npz_bytes(bytes, "bad.npz", limits);
  } catch (const ModelFileError& e) {
    return e.what();
  }
  return "(loaded)";
}

Bytes one_member(std::string_view dict, const Bytes& payload) {
  return make_zip({{"W0.npy", npy(dict, payload)}});
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_is_bit_exact_for_every_rank_and_special_value) {
  TempDir dir("npz");
  const auto entries = sample_entries();
  const fs::path file = dir.path() / "model.npz";
  save_npz(file, entries);
  require_same_entries(load_npz(file), entries);
  require_same_entries(load_npz_bytes(save_npz_bytes(entries), "mem"), entries);
  // A second generation is the same file: nothing drifts through save -> load -> save.
  BOOST_TEST((save_npz_bytes(load_npz(file)) == read_bytes(file)));
}

BOOST_AUTO_TEST_CASE(members_are_stored_with_numpys_exact_npy_bytes_and_a_fixed_date) {
  const std::vector<NpzEntry> entries = {{"W0", Tensor::matrix({{1, 2, 3}, {4, 5, 6}})},
                                         {"b0", Tensor::vector({0.5})},
                                         {"s", Tensor::scalar(2.0)},
                                         {"options", std::string("bias=false")}};
  const auto members = local_members(save_npz_bytes(entries));
  BOOST_REQUIRE_EQUAL(members.size(), 4u);
  // What np.save writes (numpy 1.24): dict, 21 - len(str(shape[0])) spaces, then spaces and
  // '\n' up to a multiple of 64 bytes. Built here by hand, not by the code under test.
  const auto header = [](std::string dict, std::size_t growth) {
    dict += std::string(growth, ' ');
    const std::size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
    std::string h = std::string("\x93NUMPY\x01\x00", 8);
    const std::size_t len = total - 10;
    h += static_cast<char>(len & 0xff);
    h += static_cast<char>(len >> 8);
    return h + dict + std::string(total - 10 - dict.size() - 1, ' ') + "\n";
  };
  const std::string want[] = {
      header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 20),
      header("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 20),
      header("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 0),
      header("{'descr': '<U10', 'fortran_order': False, 'shape': (), }", 0)};
  const std::string names[] = {"W0.npy", "b0.npy", "s.npy", "options.npy"};
  const Bytes payloads[] = {six, f8({0.5}), f8({2.0}), [] {
                              Bytes b;
                              for (const char c : std::string("bias=false"))
                                put(b, static_cast<unsigned char>(c), 4);
                              return b;
                            }()};
  for (std::size_t i = 0; i < 4; ++i) {
    BOOST_TEST_CONTEXT(names[i]) {
      BOOST_TEST(members[i].name == names[i]);
      BOOST_TEST(members[i].method == 0);  // stored, as numpy.savez
      BOOST_TEST(members[i].time == 0);
      BOOST_TEST(members[i].date == 0x21);  // 1980-01-01
      Bytes expected(want[i].begin(), want[i].end());
      BOOST_TEST(expected.size() % 64 == 0u);
      expected.insert(expected.end(), payloads[i].begin(), payloads[i].end());
      BOOST_TEST((members[i].data == expected));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_same_entries_give_byte_identical_files) {
  TempDir dir("npz");
  const auto entries = sample_entries();
  save_npz(dir.path() / "a.npz", entries);
  // Past the zip format's 2-second clock tick, so a timestamp would show.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  save_npz(dir.path() / "b.npz", entries);
  const Bytes a = read_bytes(dir.path() / "a.npz");
  BOOST_TEST(a.size() > 1000u);
  BOOST_TEST((a == read_bytes(dir.path() / "b.npz")));
  BOOST_TEST((a == save_npz_bytes(entries)));
  auto changed = entries;
  std::get<Tensor>(changed[0].value)[5] = 0.5;
  BOOST_TEST((save_npz_bytes(changed) != a));
}

BOOST_AUTO_TEST_CASE(an_archive_without_entries_is_an_empty_zip) {
  const Bytes empty = save_npz_bytes({});
  BOOST_TEST(empty.size() == 22u);
  BOOST_TEST(load_npz_bytes(empty, "empty.npz").empty());
}

BOOST_AUTO_TEST_CASE(a_save_failing_at_any_step_keeps_the_previous_file_and_leaves_no_temp_file) {
  TempDir dir("npz");
  const fs::path file = dir.path() / "model.npz";
  const std::vector<NpzEntry> before = {{"W0", Tensor::vector({1, 2, 3})}};
  save_npz(file, before);
  const Bytes original = read_bytes(file);

  const auto after = sample_entries();
  std::vector<std::string> steps;
  const fs::path other = dir.path() / "other.npz";
  save_npz(other, after, [&](std::string_view step) { steps.emplace_back(step); });
  const std::vector<std::string> want = {
      "temp file created", "entry W0",      "entry special", "entry scale", "entry empty",
      "entry no_rows",     "entry options", "entry note",    "entry blank", "written"};
  BOOST_TEST(steps == want, boost::test_tools::per_element());
  fs::remove(other);

  for (const std::string& failing : want) {
    BOOST_TEST_CONTEXT("failing at " << failing) {
      std::string message;
      try {
        save_npz(file, after, [&](std::string_view step) {
          if (step == failing) throw std::runtime_error("injected failure");
        });
      } catch (const ModelFileError& e) {
        message = e.what();
      }
      BOOST_TEST(message == file.string() + ": save failed: injected failure");
      BOOST_TEST((read_bytes(file) == original));
      BOOST_TEST(dir.names() == std::vector<std::string>{"model.npz"},
                 boost::test_tools::per_element());
    }
  }
  save_npz(file, after);
  require_same_entries(load_npz(file), after);
  BOOST_TEST(dir.names() == std::vector<std::string>{"model.npz"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_save_that_runs_out_of_space_keeps_the_previous_file) {
  // RLIMIT_FSIZE makes write() fail with EFBIG part-way, as a full disk fails with ENOSPC.
  TempDir dir("npz");
  const fs::path file = dir.path() / "model.npz";
  save_npz(file, std::vector<NpzEntry>{{"W0", Tensor::vector({1, 2, 3})}});
  const Bytes original = read_bytes(file);
  const std::vector<NpzEntry> big = {{"W0", Tensor(Shape::matrix(200, 100), 0.25)}};

  rlimit old{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  rlimit small = old;
  small.rlim_cur = 64 * 1024;
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    save_npz(file, big);
  } catch (const ModelFileError& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);

  BOOST_TEST(message.find("cannot write the temporary file: File too large") != std::string::npos,
             message);
  BOOST_TEST((read_bytes(file) == original));
  BOOST_TEST(dir.names() == std::vector<std::string>{"model.npz"},
             boost::test_tools::per_element());
  save_npz(file, big);  // and with room again it works
  require_same_entries(load_npz(file), big);
}

BOOST_AUTO_TEST_CASE(saving_to_a_missing_folder_or_over_a_folder_fails_cleanly) {
  TempDir dir("npz");
  const std::vector<NpzEntry> entries = {{"W0", Tensor::vector({1, 2, 3})}};
  const fs::path missing = dir.path() / "no-such-folder" / "model.npz";
  BOOST_CHECK_EXCEPTION(save_npz(missing, entries), ModelFileError, [&](const ModelFileError& e) {
    const std::string m = e.what();
    return m.starts_with(missing.string() + ": cannot create a temporary file in") &&
           m.ends_with("No such file or directory");
  });
  fs::create_directory(dir.path() / "taken.npz");
  BOOST_CHECK_EXCEPTION(
      save_npz(dir.path() / "taken.npz", entries), ModelFileError, [](const ModelFileError& e) {
        // Note [Special targets]: refused before anything is written (was: a failed rename)
        return std::string(e.what()).ends_with("taken.npz: is a folder, not a file");
      });
  BOOST_TEST(fs::is_directory(dir.path() / "taken.npz"));
  BOOST_TEST(dir.names() == std::vector<std::string>{"taken.npz"},
             boost::test_tools::per_element());
  BOOST_CHECK_THROW(save_npz(dir.path() / "", entries), ModelFileError);
}

BOOST_AUTO_TEST_CASE(entries_that_cannot_be_saved_are_refused_before_any_file_is_touched) {
  TempDir dir("npz");
  const fs::path file = dir.path() / "model.npz";
  const std::vector<NpzEntry> good = {{"W0", Tensor::vector({1, 2, 3})}};
  save_npz(file, good);
  const Bytes original = read_bytes(file);
  const std::vector<std::pair<std::vector<NpzEntry>, std::string>> cases = {
      {{{"a/b", Tensor()}}, "names are 1-200 characters"},
      {{{"", Tensor()}}, "names are 1-200 characters"},
      {{{"W0", Tensor()}, {"W0", Tensor()}}, "two entries named 'W0' (entries 0 and 1)"},
      {{{"s", std::string("\xff")}}, "not valid UTF-8"},
      {{{"s", std::string("a\0b", 3)}}, "holds a NUL character"},
  };
  for (const auto& [entries, want] : cases) {
    BOOST_TEST_CONTEXT(want) {
      std::string message;
      try {
        save_npz(file, entries);
      } catch (const ModelFileError& e) {
        message = e.what();
      }
      BOOST_TEST(message.find(want) != std::string::npos, message);
      BOOST_TEST((read_bytes(file) == original));
      BOOST_TEST(dir.names() == std::vector<std::string>{"model.npz"},
                 boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(corrupt_files_are_rejected_each_with_its_own_message) {
  const auto bad_payload = [](std::string_view dict, const Bytes& payload) {
    return one_member(dict, payload);
  };
  Bytes flipped = make_zip({{"W0.npy", npy(dict_2x3, six)}});
  flipped[flipped.size() / 3] ^= 0x01;  // inside W0's payload: only the CRC can tell
  Bytes bad_utf32;
  put(bad_utf32, 0xd800, 4);
  NpzLimits finite;
  finite.require_finite = true;
  NpzLimits two_entries;
  two_entries.max_entries = 2;
  NpzLimits small_total;
  small_total.max_total_bytes = 300;
  NpzLimits small_entry;
  small_entry.max_entry_bytes = 64 * 1024;
  const Bytes megabyte_of_zeros =
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (131072,), }", Bytes(1 << 20, 0));

  struct Case {
    std::string label;
    Bytes bytes;
    std::string want;
    NpzLimits limits = {};
  };
  const std::vector<Case> cases = {
      {"not a zip", Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'n', 'p', 'z', ' ', 'f', 'i', 'l',
                          'e', ',', ' ', 'n', 'o', 't', ' ', 'a', ' ', 'z', 'i', 'p', '.'},
       "bad.npz: not a zip archive"},
      {"empty file", Bytes{}, "bad.npz: the file is empty (0 bytes)"},
      {"wrong npy magic", make_zip({{"W0.npy", npy(dict_2x3, six, 1, 0, "\x93NUMPX")}}),
       "entry 'W0.npy': npy magic is '\\x93NUMPX', expected '\\x93NUMPY'"},
      {"member shorter than the magic", make_zip({{"W0.npy", Bytes{0x93, 'N'}}}),
       "npy magic is '\\x93N'"},
      {"npy version 4.0", make_zip({{"W0.npy", npy(dict_2x3, six, 4, 0)}}),
       "npy version 4.0, expected 1.0, 2.0 or 3.0"},
      {"npy version 1.1", make_zip({{"W0.npy", npy(dict_2x3, six, 1, 1)}}), "npy version 1.1"},
      {"huge header length",
       make_zip({{"W0.npy",
                  [] {
                    Bytes b{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0};
                    put(b, 0x7fffffff, 4);
                    return b;
                  }()}}),
       "npy header length 2147483647 is over the cap of 4096 bytes"},
      {"header past the end",
       make_zip({{"W0.npy",
                  [] {
                    Bytes b{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
                    put(b, 200, 2);
                    b.resize(60, ' ');
                    return b;
                  }()}}),
       "npy header length 200 runs past the end of the entry (60 bytes)"},
      {"no shape", bad_payload("{'descr': '<f8', 'fortran_order': False}", six),
       "header has no 'shape' key"},
      {"no descr", bad_payload("{'fortran_order': False, 'shape': (2, 3)}", six),
       "header has no 'descr' key"},
      {"extra key",
       bad_payload("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), "
                   "'extra': 1}",
                   six),
       "header has an unknown key 'extra'"},
      {"key twice",
       bad_payload("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, "
                   "'shape': (2, 3)}",
                   six),
       "header has the key 'descr' twice"},
      {"fortran order",
       bad_payload("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", six),
       "fortran_order is True (column-major)"},
      {"pickled objects",
       bad_payload("{'descr': '|O', 'fortran_order': False, 'shape': (2, 3), }", six),
       "dtype '|O' is an array of Python objects"},
      {"int64", bad_payload("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", six),
       "dtype '<i8' is not supported"},
      {"big-endian",
       bad_payload("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", six),
       "dtype '>f8' is not supported"},
      {"structured",
       bad_payload("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': "
                   "(2, 3), }",
                   six),
       "descr is a list (a structured dtype)"},
      {"rank 3", bad_payload("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", six),
       "shape (1, 2, 3) has rank 3; at most 2 is supported"},
      {"negative dim",
       bad_payload("{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 6), }", six),
       "shape has a negative dimension -1"},
      {"product overflows",
       bad_payload("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
                   six),
       "shape (4294967296, 4294967296) has more elements than fit in 64 bits"},
      {"bytes overflow",
       bad_payload("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 1073741824), }",
                   six),
       "needs more bytes than fit in 64 bits"},
      {"dim past 64 bits",
       bad_payload("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                   six),
       "dimension 99999999999999999999 that does not fit in 64 bits"},
      {"shape not a tuple",
       bad_payload("{'descr': '<f8', 'fortran_order': False, 'shape': (6)}", six),
       "shape (6) is a number, not a tuple"},
      {"missing comma",
       bad_payload("{'descr': '<f8' 'fortran_order': False, 'shape': (2, 3)}", six),
       "expected ',' or '}' after a value at offset 16"},
      {"text after the dict",
       bad_payload("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} import os", six),
       "unexpected text after the header dict"},
      {"string of rank 1",
       bad_payload("{'descr': '<U1', 'fortran_order': False, 'shape': (1,), }", Bytes(4, 'a')),
       "a string entry must be 0-d, found shape (1,)"},
      {"bad code point",
       bad_payload("{'descr': '<U1', 'fortran_order': False, 'shape': (), }", bad_utf32),
       "string character 0 is U+D800, not a Unicode scalar value"},
      {"payload one short", bad_payload(dict_2x3, Bytes(six.begin(), six.end() - 1)),
       "payload is 47 bytes, shape (2, 3) of '<f8' needs 48 (1 bytes missing)"},
      {"payload one long",
       bad_payload(dict_2x3,
                   [] {
                     Bytes b = six;
                     b.push_back(0);
                     return b;
                   }()),
       "payload is 49 bytes, shape (2, 3) of '<f8' needs 48 (1 trailing bytes)"},
      {"duplicate names",
       make_zip({{"W0.npy", npy(dict_2x3, six)}, {"W0.npy", npy(dict_2x3, six)}}),
       "entry 'W0.npy' appears twice (entries 0 and 1)"},
      {"not .npy", make_zip({{"W0.txt", npy(dict_2x3, six)}}),
       "entry 0 is named 'W0.txt': expected NAME.npy"},
      {"path separator", make_zip({{"../W0.npy", npy(dict_2x3, six)}}),
       "names must not hold a '/' or '\\'"},
      {"NaN when finite is required", bad_payload(dict_2x3, f8({1, 2, 3, 4, std::nan(""), 6})),
       "entry 'W0.npy': element (1, 1) is nan; finite values are required", finite},
      {"Inf when finite is required",
       bad_payload("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }",
                   f8({1, 2, -HUGE_VAL, 4, 5, 6})),
       "element (2,) is -inf; finite values are required", finite},
      {"flipped payload byte", flipped, "entry 'W0.npy': cannot read it: CRC error"},
      {"declared size past the cap", make_zip({{"W0.npy", npy(dict_2x3, six), true, 0xfffffff0u}}),
       "entry 'W0.npy': uncompressed size 4294967280 bytes is over the cap of 67108864 bytes "
       "per entry"},
      {"deflate bomb", make_zip({{"W0.npy", megabyte_of_zeros, true}}),
       "bytes is over the cap of 65536 bytes per entry", small_entry},
      {"more data than declared", make_zip({{"W0.npy", megabyte_of_zeros, true, 1000u}}),
       "holds more than the 1000 bytes its zip header declares"},
      {"too many entries",
       make_zip({{"a.npy", npy(dict_2x3, six)},
                 {"b.npy", npy(dict_2x3, six)},
                 {"c.npy", npy(dict_2x3, six)}}),
       "bad.npz: 3 entries, more than the cap of 2", two_entries},
      {"total past the cap",
       make_zip({{"a.npy", npy(dict_2x3, six)},
                 {"b.npy", npy(dict_2x3, six)},
                 {"c.npy", npy(dict_2x3, six)}}),
       "entries up to 'c.npy' hold more than the cap of 300 bytes in total", small_total},
  };
  std::vector<std::string> seen;
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.label) {
      const std::string message = load_error(c.bytes, c.limits);
      BOOST_TEST(message.find(c.want) != std::string::npos, message);
      BOOST_TEST(message.starts_with("bad.npz: "), message);
      BOOST_TEST(message.find('\n') == std::string::npos, message);
      seen.push_back(message);
    }
  }
  // Each failure has its own message.
  std::sort(seen.begin(), seen.end());
  BOOST_TEST((std::adjacent_find(seen.begin(), seen.end()) == seen.end()));
  // The same zips with valid members load, so the table fails for the reasons it names.
  BOOST_TEST(load_error(make_zip({{"W0.npy", npy(dict_2x3, six)}})) == "(loaded)");
  BOOST_TEST(load_error(make_zip({{"W0.npy", megabyte_of_zeros, true}})) == "(loaded)");
  BOOST_TEST(load_error(bad_payload(dict_2x3, f8({1, 2, 3, 4, std::nan(""), 6}))) == "(loaded)");
}

BOOST_AUTO_TEST_CASE(headers_numpy_may_write_are_read) {
  // Other key orders, double quotes, no trailing comma, npy 2.0 and 3.0, Python 2's 3L.
  const std::vector<Bytes> members = {
      npy("{'shape': (2, 3), 'fortran_order': False, 'descr': '<f8'}", six),
      npy("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2,3,)}", six),
      npy(dict_2x3, six, 2, 0),
      npy(dict_2x3, six, 3, 0),
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }        ", six),
  };
  for (const Bytes& m : members) {
    const auto got = load_npz_bytes(make_zip({{"W0.npy", m}}), "ok.npz");
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    BOOST_TEST(same_bits(std::get<Tensor>(got[0].value), Tensor::matrix({{1, 2, 3}, {4, 5, 6}})));
  }
}

BOOST_AUTO_TEST_CASE(a_file_cut_short_at_any_length_is_rejected) {
  const Bytes whole = save_npz_bytes(sample_entries());
  BOOST_REQUIRE(load_error(whole) == "(loaded)");
  for (std::size_t n = 0; n < whole.size(); ++n) {
    const std::string message =
        load_error(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n)));
    BOOST_TEST(message.starts_with("bad.npz: "), "cut to " << n << " bytes: " << message);
  }
}

BOOST_AUTO_TEST_CASE(any_flipped_byte_fails_cleanly_or_loads) {
  const Bytes whole = save_npz_bytes(std::vector<NpzEntry>{{"W0", Tensor::matrix({{1, 2}, {3, 4}})},
                                                           {"options", std::string("bias=false")}});
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    for (const int mask : {0x01, 0x80, 0xff}) {
      Bytes b = whole;
      b[i] = static_cast<std::uint8_t>(b[i] ^ mask);
      if (load_error(b) != "(loaded)") ++rejected;  // any other exception fails the test
    }
  }
  // Most bytes are checked by something: the CRC, the headers, or the consistency check.
  BOOST_TEST(rejected > whole.size() * 2);
}

BOOST_AUTO_TEST_CASE(bad_paths_are_rejected_with_the_reason) {
  TempDir dir("npz");
  BOOST_CHECK_EXCEPTION(
      load_npz(dir.path() / "none.npz"), ModelFileError, [&](const ModelFileError& e) {
        return std::string(e.what()) ==
               (dir.path() / "none.npz").string() + ": cannot open it: No such file or directory";
      });
  BOOST_CHECK_EXCEPTION(load_npz(dir.path()), ModelFileError, [&](const ModelFileError& e) {
    return std::string(e.what()) == dir.path().string() + ": is a folder, not a file";
  });
  write_bytes(dir.path() / "empty.npz", {});
  BOOST_CHECK_EXCEPTION(load_npz(dir.path() / "empty.npz"), ModelFileError,
                        [](const ModelFileError& e) {
                          return std::string(e.what()).ends_with(
                              "empty.npz: the file is empty (0 bytes), expected a zip archive");
                        });
}

BOOST_AUTO_TEST_CASE(files_written_by_numpy_load) {
  // Seeds of the fuzz corpus, written by numpy 1.24 (see tests/fuzz/fuzz_npz.cpp).
  for (const char* name : {"numpy_savez.npz", "numpy_savez_compressed.npz"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto got = load_npz(fs::path("tests/fuzz/corpus/npz") / name);
      BOOST_REQUIRE_EQUAL(got.size(), 4u);
      BOOST_TEST(got[0].name == "W0");
      BOOST_TEST(same_bits(std::get<Tensor>(got[0].value),
                           Tensor::matrix({{0.5, -1.25, 3.0}, {1e308, -0.0, 5e-324}})));
      BOOST_TEST(got[1].name == "b0");
      BOOST_TEST(same_bits(std::get<Tensor>(got[1].value), Tensor::vector({1.0 / 3.0, 2.0})));
      BOOST_TEST(got[2].name == "lr");
      BOOST_TEST(same_bits(std::get<Tensor>(got[2].value), Tensor::scalar(0.1)));
      BOOST_TEST(got[3].name == "options");
      BOOST_TEST(std::get<std::string>(got[3].value) == "recipe=fixed activation=sigmoid");
    }
  }
}

BOOST_AUTO_TEST_CASE(fuzz_regressions_fail_cleanly_or_load) {
  // Every input that ever crashed tests/fuzz/fuzz_npz.cpp (R17 in docs/reliability.md), replayed as
  // it reads them: a whole .npz when it starts "PK", else one .npy member. ModelFileError or a load
  // that saves and loads back the same; any other exception fails.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator("tests/fuzz/regressions/npz")) {
    if (!e.is_regular_file()) continue;
    ++files;
    BOOST_TEST_CONTEXT(e.path().filename().string()) {
      const Bytes input = read_bytes(e.path());
      const bool whole = input.size() >= 2 && input[0] == 'P' && input[1] == 'K';
      std::vector<NpzEntry> entries;
      try {
        entries = load_npz_bytes(whole ? input : make_zip({{"W0.npy", input}}), "regression.npz");
      } catch (const ModelFileError& err) {
        BOOST_TEST(std::string(err.what()).starts_with("regression.npz: "));
        continue;
      }
      Bytes saved;
      try {
        saved = save_npz_bytes(entries);
      } catch (const ModelFileError&) {
        continue;  // loadable names save_npz will not write
      }
      require_same_entries(load_npz_bytes(saved, "resaved.npz"), entries);
    }
  }
  BOOST_TEST(files > 0u);
}

BOOST_AUTO_TEST_CASE(required_arrays_name_the_array_and_both_shapes) {
  const std::vector<NpzEntry> entries = {{"W0", Tensor(Shape::matrix(128, 700))},
                                         {"options", std::string("bias=false")}};
  BOOST_TEST((find_entry(entries, "options") == &entries[1]));
  BOOST_TEST((find_entry(entries, "W1") == nullptr));
  BOOST_TEST(require_string(entries, "options", "model.npz") == "bias=false");
  const auto message = [&](auto f) {
    try {
      f();
    } catch (const ModelFileError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  BOOST_TEST(message([&] {
               (void)require_tensor(entries, "W0", Shape::matrix(128, 784), "model.npz");
             }) == "model.npz: array W0 has shape (128, 700), the network needs (128, 784)");
  BOOST_TEST(message([&] {
               (void)require_tensor(entries, "W1", Shape::matrix(64, 128), "model.npz");
             }) == "model.npz: has no array W1; the network needs one of shape (64, 128)");
  BOOST_TEST(message([&] {
               (void)require_tensor(entries, "options", Shape::scalar(), "m.npz", "the dump");
             }) == "m.npz: options is a string; the dump needs an array of shape ()");
  BOOST_TEST(message([&] { (void)require_string(entries, "W0", "model.npz"); }) ==
             "model.npz: W0 is an array, expected a string");
  BOOST_TEST((&require_tensor(entries, "W0", Shape::matrix(128, 700), "model.npz") ==
              &std::get<Tensor>(entries[0].value)));
}

BOOST_AUTO_TEST_SUITE_END()
