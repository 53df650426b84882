// Spawning a task costs exactly one heap allocation: its coroutine frame,
// with the task header in front of it. Counted with a replaced operator new.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "weft.h"

namespace {
std::atomic<long> g_allocs{0};
std::atomic<bool> g_counting{false};
void count_one() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// The sanitizers own operator new; count through their allocation hook,
// which sees every allocation (operator new and malloc alike).
// Declared by hand: g++ ships the runtime but not its interface headers.
extern "C" int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void*, size_t), void (*free_hook)(const volatile void*));
namespace {
void on_malloc(const volatile void*, size_t) { count_one(); }
void on_free(const volatile void*) {}
const int g_hooks = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace
#else
void* operator new(std::size_t n) {
  count_one();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace {
weft::Task<void> empty() { co_return; }
}  // namespace

TEST_CASE("spawn allocates exactly once per task", "[alloc]") {
  constexpr int kTasks = 1000;
  weft::Executor ex;
  // Warm up: worker slot, vectors and thread-locals allocate once.
  ex.run([&]() -> weft::Task<void> { co_await ex.spawn(empty()); }());

  long spawned_allocs = 0;
  ex.run([&]() -> weft::Task<void> {
    g_allocs.store(0);
    g_counting.store(true);
    for (int i = 0; i < kTasks; ++i) ex.spawn(empty()).detach();
    g_counting.store(false);
    spawned_allocs = g_allocs.load();
    co_return;
  }());
  CHECK(spawned_allocs == kTasks);

  // From outside a worker (the injector path) too.
  g_allocs.store(0);
  g_counting.store(true);
  for (int i = 0; i < kTasks; ++i) ex.spawn(empty()).detach();
  g_counting.store(false);
  CHECK(g_allocs.load() == kTasks);
  ex.run([]() -> weft::Task<void> { co_return; }());
}
