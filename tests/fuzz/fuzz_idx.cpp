// libFuzzer harness for the IDX reader (R17 in docs/reliability.md): any input must parse or fail
// with a DataError; a crash, a sanitizer report or any other exception is a finding. Inputs that
// ever failed go to tests/fuzz/regressions/idx/, which the unit tests replay.
#include <cstddef>
#include <cstdint>
#include <span>

#include "idx_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  stepgrad::fuzz::idx_target(std::span<const std::uint8_t>(data, size));
  return 0;
}
