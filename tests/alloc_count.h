// Counts the heap allocations the calling thread makes inside a scope:
//
//   weft_test::CountAllocs counting;
//   ... work ...
//   CHECK(counting.count() == 1);
//   CHECK(counting.large_count() == 0);   // none of 64 KiB or more
//
// Only the counting thread's allocations count: other threads run beside a
// test (the reactor's driver thread starts with the first Executor, and
// ASan's thread start-up allocates on it), and they allocate for
// themselves.
//
// Include it in exactly one file of a test binary: it replaces the global
// operator new (or, under ASan/TSan, which own operator new, installs the
// sanitizer's allocation hook, which sees operator new and malloc alike).
#ifndef WEFT_TESTS_ALLOC_COUNT_H_
#define WEFT_TESTS_ALLOC_COUNT_H_

#include <cstddef>
#include <cstdlib>
#include <new>

namespace weft_test {
namespace alloc_count_detail {
inline long g_allocs = 0;
inline long g_large_allocs = 0;
inline thread_local bool t_counting = false;
// What CountAllocs::large_count() counts: buffers, not nodes or frames.
inline constexpr size_t kLargeAlloc = 64 * 1024;
inline void count_one(size_t n) {
  if (!t_counting) return;
  ++g_allocs;
  if (n >= kLargeAlloc) ++g_large_allocs;
}
}  // namespace alloc_count_detail

class CountAllocs {
 public:
  CountAllocs() {
    alloc_count_detail::g_allocs = 0;
    alloc_count_detail::g_large_allocs = 0;
    alloc_count_detail::t_counting = true;
  }
  ~CountAllocs() { stop(); }
  CountAllocs(const CountAllocs&) = delete;
  CountAllocs& operator=(const CountAllocs&) = delete;

  // Stops counting early (the count stays readable).
  void stop() { alloc_count_detail::t_counting = false; }
  long count() const { return alloc_count_detail::g_allocs; }
  // Of those, the ones of at least kLargeAlloc (64 KiB) bytes.
  long large_count() const { return alloc_count_detail::g_large_allocs; }
};
}  // namespace weft_test

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Declared by hand: g++ ships the runtime but not its interface headers.
extern "C" int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void*, size_t), void (*free_hook)(const volatile void*));
namespace weft_test::alloc_count_detail {
inline void on_malloc(const volatile void*, size_t n) { count_one(n); }
inline void on_free(const volatile void*) {}
inline const int g_hooks = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace weft_test::alloc_count_detail
#else
void* operator new(std::size_t n) {
  weft_test::alloc_count_detail::count_one(n);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

#endif  // WEFT_TESTS_ALLOC_COUNT_H_
