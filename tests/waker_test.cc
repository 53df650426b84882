// Wakers: from foreign threads, duplicates, late wakes, and the race between
// a wake and the suspend that published the waker.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "test_util.h"
#include "weft.h"

using weft_test::WakerSlot;

namespace {
// Coroutine lambdas must not capture when the task outlives the statement
// that spawned it (the closure dies first): these take parameters instead.
weft::Task<void> count_resumes(WakerSlot& slot, int& resumes) {
  for (;;) {
    co_await slot;
    ++resumes;
  }
}
weft::Task<int> wait_once(WakerSlot& slot) {
  co_await slot;
  co_return 1;
}
}  // namespace

TEST_CASE("a thread that is not a worker wakes a task", "[waker]") {
  weft::Executor ex;
  WakerSlot slot;
  std::thread foreign([&] {
    weft::Waker w;
    while (!(w = slot.take())) std::this_thread::yield();
    std::move(w).wake();
  });
  int r = ex.run([&]() -> weft::Task<int> {
    co_await slot;
    co_return 5;
  }());
  foreign.join();
  CHECK(r == 5);
}

TEST_CASE("duplicate wakes before a run are absorbed; the task runs once", "[waker]") {
  weft::LocalExecutor ex;
  WakerSlot slot;
  int resumes = 0;
  auto h = ex.spawn(count_resumes(slot, resumes));
  while (ex.try_tick()) {
  }
  weft::Waker w = slot.take();
  REQUIRE(w);
  weft::Waker copy = w;  // copies wake the same task
  CHECK(copy.will_wake(w));
  w.wake_by_ref();
  copy.wake_by_ref();
  std::move(copy).wake();
  CHECK(ex.try_tick());
  CHECK_FALSE(ex.try_tick());  // nothing left: the three wakes made one run
  CHECK(resumes == 1);
  // Issue #9 item 6: the waker of the previous suspension is inert now that
  // the task ran again; the one of the current suspension works.
  w.wake_by_ref();
  CHECK_FALSE(ex.try_tick());
  CHECK(resumes == 1);
  weft::Waker current = slot.take();
  REQUIRE(current);
  CHECK_FALSE(current.will_wake(w));
  current.wake_by_ref();
  CHECK(ex.try_tick());
  CHECK(resumes == 2);
}

TEST_CASE("a wake after completion does nothing", "[waker]") {
  weft::LocalExecutor ex;
  WakerSlot slot;
  weft::Waker kept;
  auto h = ex.spawn(wait_once(slot));
  while (ex.try_tick()) {
  }
  kept = slot.take();
  kept.wake_by_ref();
  while (ex.try_tick()) {
  }
  CHECK(h.is_finished());
  kept.wake_by_ref();  // completed: no-op
  CHECK_FALSE(ex.try_tick());
}

// A task suspends 100,000 times; each time another thread takes the waker
// the moment it is published (often before the coroutine has finished
// suspending) and wakes it. A lost wake-up hangs the test.
TEST_CASE("a wake racing with the suspend is never lost", "[waker][stress]") {
  constexpr int kRounds = 100'000;
  weft::Executor ex;
  WakerSlot slot;
  std::atomic<bool> done{false};
  std::thread waker([&] {
    while (!done.load(std::memory_order_acquire)) {
      if (weft::Waker w = slot.take()) std::move(w).wake();
    }
  });
  int n = ex.run([&]() -> weft::Task<int> {
    int i = 0;
    for (; i < kRounds; ++i) co_await slot;
    co_return i;
  }());
  done.store(true, std::memory_order_release);
  waker.join();
  CHECK(n == kRounds);
}

TEST_CASE("the same race for spawned tasks on two workers", "[waker][stress]") {
  constexpr int kTasks = 4;
  constexpr int kRounds = 20'000;
  weft::Executor ex;
  WakerSlot slots[kTasks];
  std::atomic<bool> done{false};
  std::thread waker([&] {
    while (!done.load(std::memory_order_acquire)) {
      for (auto& s : slots) {
        if (weft::Waker w = s.take()) std::move(w).wake();
      }
    }
  });
  std::thread second([&] {
    ex.run([&]() -> weft::Task<void> {
      while (!done.load(std::memory_order_acquire)) co_await weft::yield_now();
    }());
  });
  int total = ex.run([&]() -> weft::Task<int> {
    std::vector<weft::JoinHandle<int>> hs;
    for (auto& s : slots) {
      hs.push_back(ex.spawn([](WakerSlot& slot) -> weft::Task<int> {
        int i = 0;
        for (; i < kRounds; ++i) co_await slot;
        co_return i;
      }(s)));
    }
    int sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
  }());
  done.store(true, std::memory_order_release);
  waker.join();
  second.join();
  CHECK(total == kTasks * kRounds);
}
