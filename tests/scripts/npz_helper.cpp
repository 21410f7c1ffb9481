// Helper of tests/scripts/check_npz.py: `write FILE` saves an .npz of known values with save_npz
// for numpy to check; `dump FILE` loads any .npz with load_npz and prints it as exact text
// (float64 bit patterns, UTF-8 bytes in hex) that the script compares with numpy's view.
#include <bit>
#include <cstdio>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <stepgrad/io/npz.hpp>

using namespace stepgrad;

namespace {

// Keep in step with known_entries() in check_npz.py.
std::vector<NpzEntry> known_entries() {
  constexpr double inf = std::numeric_limits<double>::infinity();
  Tensor w0(Shape::matrix(3, 4));
  for (std::size_t i = 0; i < w0.size(); ++i) w0[i] = static_cast<double>(i) * 0.25 - 1.5;
  return {
      {"W0", w0},
      {"b0", Tensor::vector({-0.0, 5e-324, 1e308})},
      {"special", Tensor::vector({inf, -inf, std::numeric_limits<double>::quiet_NaN(),
                                  2.2250738585072009e-308, 1.0 / 3.0, -2.5})},
      {"lr", Tensor::scalar(0.1)},
      {"empty", Tensor::zeros(0, 3)},
      {"options", std::string("recipe=fixed activation=sigmoid bias=false seed=42")},
      {"note", std::string("na\xc3\xafve \xe2\x88\x91 \xf0\x9f\x98\x80")},  // naïve ∑ 😀
  };
}

void dump(const std::vector<NpzEntry>& entries) {
  for (const NpzEntry& e : entries) {
    if (const auto* t = std::get_if<Tensor>(&e.value)) {
      std::string bits;
      for (const double v : t->values()) {
        bits += fmt::format("{}{:016x}", bits.empty() ? "" : ",", std::bit_cast<std::uint64_t>(v));
      }
      fmt::print("{} f8 {} {}\n", e.name, t->shape(), bits);
    } else {
      std::string hex;
      for (const char c : std::get<std::string>(e.value)) {
        hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
      }
      fmt::print("{} str {}\n", e.name, hex);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "write") {
      save_npz(std::string(args[1]), known_entries());
      return 0;
    }
    if (args.size() == 2 && args[0] == "dump") {
      dump(load_npz(std::string(args[1])));
      return 0;
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "npz_helper: {}\n", e.what());
    return 1;
  }
  fmt::print(stderr, "usage: npz_helper write FILE | npz_helper dump FILE\n");
  return 2;
}
