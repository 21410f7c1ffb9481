// Packs the explorer's data: the first N training and M test images of the article's split
// (io/mnist.hpp's load_split, the same items 10_train uses, in the same order) into one small
// file the page fetches, in io/subset.hpp's format (pack_subset writes it, unpack_subset reads it
// in the page's engine, web/bindings.cpp).
//   pack_subset --data data/mnist --train 2000 --test 1000 --out build-web/mnist-subset.bin
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <stepgrad/io/files.hpp>
#include <stepgrad/io/mnist.hpp>
#include <stepgrad/io/subset.hpp>

namespace {

// A positive whole number; "abc", "-5", "3x" and one past size_t's range are errors.
std::size_t parse_count(std::string_view flag, std::string_view text) {
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v == 0)
    throw std::invalid_argument(fmt::format("{}: not a count: {}", flag, text));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string data = "data/mnist";
    std::string out_path;
    std::size_t n_train = 2000;
    std::size_t n_test = 1000;
    for (int i = 1; i < argc; ++i) {
      const std::string_view flag = argv[i];
      if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{}: needs a value", flag));
      const std::string value = argv[++i];
      if (flag == "--data") {
        data = value;
      } else if (flag == "--out") {
        out_path = value;
      } else if (flag == "--train") {
        n_train = parse_count(flag, value);
      } else if (flag == "--test") {
        n_test = parse_count(flag, value);
      } else {
        throw std::invalid_argument(fmt::format("unknown option {}", flag));
      }
    }
    if (out_path.empty()) throw std::invalid_argument("--out FILE is required");
    const stepgrad::Split split = stepgrad::load_split(data, stepgrad::SplitKind::article);
    if (n_train > split.train.size() || n_test > split.test.size())
      throw std::invalid_argument(
          fmt::format("the article split has {} training and {} test images", split.train.size(),
                      split.test.size()));
    const std::vector<std::uint8_t> out =
        stepgrad::pack_subset(split.train.first(n_train), split.test.first(n_test));
    stepgrad::write_file_atomic(out_path, out);  // never a half-written file (R16)
    fmt::print("{}: {} training and {} test images of the article split, {} bytes\n", out_path,
               n_train, n_test, out.size());
  } catch (const std::exception& e) {
    fmt::print(stderr, "pack_subset: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
