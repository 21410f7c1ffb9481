// libFuzzer harness for the .npz reader and the model loader on top of it (R17 in
// docs/reliability.md): any bytes load or throw ModelFileError, and what loads saves and loads back
// bit for bit. An input starting "PK" is a whole .npz; any other input is one .npy member, wrapped
// here in a zip with a correct CRC so that mutations reach the npy parser (libzip rejects a member
// whose CRC does not match before we see its bytes). Seeds in tests/fuzz/corpus/npz: numpy 1.24's
// savez, savez_compressed and save output, and save_npz's. Every input that ever crashed it is kept
// in tests/fuzz/regressions/npz and replayed by tests/io/test_npz.cpp.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include <stepgrad/io/npz.hpp>
#include <stepgrad/nn/model.hpp>

using namespace stepgrad;

namespace {

void put(std::vector<std::uint8_t>& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A zip holding `member` stored as W0.npy (local header, central directory, end record).
std::vector<std::uint8_t> wrap_in_zip(std::span<const std::uint8_t> member) {
  constexpr std::string_view name = "W0.npy";
  const auto crc = crc32(0, member.data(), static_cast<uInt>(member.size()));
  const auto header = [&](std::vector<std::uint8_t>& out) {
    put(out, 20, 2);  // version needed
    put(out, 0, 2);   // flags
    put(out, 0, 2);   // stored
    put(out, 0, 2);   // time
    put(out, 0x21, 2);
    put(out, crc, 4);
    put(out, member.size(), 4);
    put(out, member.size(), 4);
    put(out, name.size(), 2);
    put(out, 0, 2);  // extra
  };
  std::vector<std::uint8_t> out;
  put(out, 0x04034b50, 4);
  header(out);
  out.insert(out.end(), name.begin(), name.end());
  out.insert(out.end(), member.begin(), member.end());
  const std::size_t central = out.size();
  put(out, 0x02014b50, 4);
  put(out, 20, 2);  // made by
  header(out);
  put(out, 0, 2);  // comment
  put(out, 0, 2);  // disk
  put(out, 0, 2);  // internal attributes
  put(out, 0, 4);  // external attributes
  put(out, 0, 4);  // local header offset
  out.insert(out.end(), name.begin(), name.end());
  const std::size_t end = out.size();
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, 1, 2);
  put(out, 1, 2);
  put(out, end - central, 4);
  put(out, central, 4);
  put(out, 0, 2);
  return out;
}

bool same(const NpzEntry& a, const NpzEntry& b) {
  if (a.name != b.name || a.value.index() != b.value.index()) return false;
  if (const auto* s = std::get_if<std::string>(&a.value)) {
    return *s == std::get<std::string>(b.value);
  }
  const auto& ta = std::get<Tensor>(a.value);
  const auto& tb = std::get<Tensor>(b.value);
  // memcmp of an empty tensor's null data() is undefined, even for 0 bytes
  return ta.shape() == tb.shape() &&
         (ta.size() == 0 || std::memcmp(ta.data(), tb.data(), 8 * ta.size()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const bool whole = size >= 2 && data[0] == 'P' && data[1] == 'K';
  std::vector<NpzEntry> entries;
  try {
    entries =
        whole ? load_npz_bytes(input, "fuzz.npz") : load_npz_bytes(wrap_in_zip(input), "fuzz.npz");
  } catch (const ModelFileError&) {
    return 0;
  }
  try {
    (void)model_from_entries(entries, "fuzz.npz");  // the model file's own checks (R14)
  } catch (const ModelFileError&) {
  }
  std::vector<std::uint8_t> saved;
  try {
    saved = save_npz_bytes(entries);
  } catch (const ModelFileError&) {
    return 0;  // names or strings a zip may hold but save_npz refuses to write
  }
  const auto again = load_npz_bytes(saved, "resaved.npz");
  if (again.size() != entries.size()) __builtin_trap();
  for (std::size_t i = 0; i < again.size(); ++i) {
    if (!same(again[i], entries[i])) __builtin_trap();
  }
  return 0;
}
