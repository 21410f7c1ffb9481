// The replacement operator new behind AllocationCounter (its own translation unit, so the
// compiler never pairs it with a delete it can see).
#include "alloc_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<int> active{0};
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (active.load(std::memory_order_relaxed) > 0)
    allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

// The aligned forms: Tensor's storage comes from them (Note [Aligned storage] in tensor.hpp).
void* operator new(std::size_t size, std::align_val_t alignment) {
  if (active.load(std::memory_order_relaxed) > 0)
    allocations.fetch_add(1, std::memory_order_relaxed);
  const auto align = static_cast<std::size_t>(alignment);
  const std::size_t rounded = ((size == 0 ? 1 : size) + align - 1) / align * align;
  if (void* p = std::aligned_alloc(align, rounded)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace stepgrad::testing {

AllocationCounter::AllocationCounter() {
  allocations = 0;
  ++active;
}
AllocationCounter::~AllocationCounter() { --active; }
long AllocationCounter::count() const { return allocations.load(); }

}  // namespace stepgrad::testing
