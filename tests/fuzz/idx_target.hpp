// What the IDX fuzzer runs on each input, shared with the unit test that replays every input
// the fuzzer ever crashed on (R17 in docs/reliability.md): parse the bytes as they are and
// gzip-compressed, and check each result as images or labels.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <stepgrad/io/mnist.hpp>

namespace stepgrad::fuzz {

/// bytes as one gzip member (zlib, level 1); empty when zlib fails.
inline std::vector<std::uint8_t> gzip(std::span<const std::uint8_t> bytes) {
  z_stream s{};
  if (deflateInit2(&s, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::vector<std::uint8_t> out(deflateBound(&s, static_cast<uLong>(bytes.size())));
  s.next_in = const_cast<Bytef*>(bytes.data());  // zlib's API without ZLIB_CONST
  s.avail_in = static_cast<uInt>(bytes.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&s, Z_FINISH);
  out.resize(rc == Z_STREAM_END ? s.total_out : 0);
  deflateEnd(&s);
  return out;
}

/// Parses `bytes` as IDX and, when that works, pairs the result as images or labels with a
/// made-up partner of the right count. A DataError is a normal outcome; anything else escapes.
inline void parse_and_pair(std::span<const std::uint8_t> bytes) {
  try {
    IdxArray a = parse_idx(bytes, "input");
    const std::size_t n = a.dims[0];
    // The partner costs n x 784 bytes for labels: stay small, whatever the input claims.
    if (n > 4096) return;
    if (a.dims.size() == 3) {
      IdxArray labels{{n}, std::vector<std::uint8_t>(n, 7)};
      make_image_set(std::move(a), std::move(labels), "input", "labels");
    } else if (a.dims.size() == 1) {
      IdxArray images{{n, kImageRows, kImageCols}, std::vector<std::uint8_t>(n * kImagePixels)};
      make_image_set(std::move(images), std::move(a), "images", "input");
    }
  } catch (const DataError&) {
  }
}

/// parse_and_pair on the bytes, then on their gzip compression: the fuzzer's mutations then
/// reach the gzip reader's header and payload checks, not only its CRC check.
inline void idx_target(std::span<const std::uint8_t> bytes) {
  parse_and_pair(bytes);
  if (bytes.size() <= (std::size_t{1} << 16)) parse_and_pair(gzip(bytes));
}

}  // namespace stepgrad::fuzz
