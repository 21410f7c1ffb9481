// Counts heap allocations made through operator new while a counter is alive. Linking
// alloc_counter.cpp replaces the global operator new of the test executable; with no
// counter alive it behaves as the default one.
#pragma once

namespace stepgrad::testing {

class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;
  /// Allocations since this counter was made.
  long count() const;
};

}  // namespace stepgrad::testing
