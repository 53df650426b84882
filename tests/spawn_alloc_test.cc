// Spawning a task costs exactly one heap allocation: its coroutine frame,
// with the task header in front of it. Counted with a replaced operator new.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <new>

#include "weft.h"

namespace {
// Only the spawning thread's allocations count. Other threads run beside
// the test: the reactor's driver thread starts when the first Executor is
// created, and ASan's thread start-up allocates on it (pthread_getattr_np),
// which made the count 1003 in about a quarter of ASan runs. Nothing in this
// test spawns onto another thread, so every allocation a spawn causes is on
// the spawning thread.
long g_allocs = 0;
thread_local bool t_counting = false;
void count_one() {
  if (t_counting) ++g_allocs;
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
    g_allocs = 0;
    t_counting = true;
    for (int i = 0; i < kTasks; ++i) ex.spawn(empty()).detach();
    t_counting = false;
    spawned_allocs = g_allocs;
    co_return;
  }());
  CHECK(spawned_allocs == kTasks);

  // From outside a worker (the injector path) too.
  g_allocs = 0;
  t_counting = true;
  for (int i = 0; i < kTasks; ++i) ex.spawn(empty()).detach();
  t_counting = false;
  CHECK(g_allocs == kTasks);
  ex.run([]() -> weft::Task<void> { co_return; }());
}
