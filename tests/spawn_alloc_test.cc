// Spawning a task costs exactly one heap allocation: its coroutine frame,
// with the task header in front of it. Counted with alloc_count.h (only the
// spawning thread's allocations: the reactor's driver thread starts beside
// the test, and ASan's thread start-up allocated on it inside the window,
// 1003 != 1000 in about a quarter of ASan runs).
#include <catch2/catch.hpp>

#include "alloc_count.h"
#include "weft.h"

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
    weft_test::CountAllocs counting;
    for (int i = 0; i < kTasks; ++i) ex.spawn(empty()).detach();
    counting.stop();
    spawned_allocs = counting.count();
    co_return;
  }());
  CHECK(spawned_allocs == kTasks);

  // From outside a worker (the injector path) too.
  {
    weft_test::CountAllocs counting;
    for (int i = 0; i < kTasks; ++i) ex.spawn(empty()).detach();
    counting.stop();
    CHECK(counting.count() == kTasks);
  }
  ex.run([]() -> weft::Task<void> { co_return; }());
}
