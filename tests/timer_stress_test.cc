// Timer races, many times over (meant for --config=tsan and asan_ubsan too):
// a cancel from another thread against the driver firing the timer, a
// re-arm from another thread against the firing, and a re-arm against the
// awaiting task being cancelled. Each iteration checks what the await
// promised (completed, never early, not after the Timer was left alone),
// and the sanitizers check the entry lifetimes (timer_entry.h).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "reactor/reactor.h"
#include "timer_test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft::Clock;
using weft_test::wheel_reaches;

namespace {

// Each iteration waits about a millisecond; enough to hit every
// interleaving of the driver's turn with the other thread's operation.
constexpr int kIterations = 1500;

// Spins (no sleep: the point is to land near the driver's turn) until `t`.
void spin_until(Clock::time_point t) {
  while (Clock::now() < t) std::this_thread::yield();
}

weft::Task<Clock::time_point> await_timer(weft::Timer* t) {
  co_await t->wait();
  co_return Clock::now();
}

}  // namespace

TEST_CASE("cancel from another thread races the timer firing", "[timer][stress]") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> us(0, 2500);
  int fired = 0, cancelled = 0;
  for (int i = 0; i < kIterations; ++i) {
    const auto deadline = Clock::now() + 1ms;
    weft::Timer t(deadline);
    const auto cancel_at = Clock::now() + std::chrono::microseconds(us(rng));
    std::thread canceller([&] {
      spin_until(cancel_at);
      t.cancel();
    });
    const Clock::time_point woke = weft::block_on(await_timer(&t));
    canceller.join();
    // Completed because the deadline passed, or because of the cancel:
    // never early otherwise.
    if (woke >= deadline) {
      ++fired;
    } else {
      ++cancelled;
      CHECK(woke >= cancel_at);
    }
    CHECK_FALSE(t.fired());  // cancelled by now, whoever won
  }
  // Both outcomes happened (the cancel lands in [0, 2.5] ms, the deadline
  // fires in [1, 2] ms): the race was exercised, not one side of it.
  CHECK(fired > 0);
  CHECK(cancelled > 0);
}

TEST_CASE("re-arm from another thread races the timer firing", "[timer][stress]") {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> us(0, 1500);
  for (int i = 0; i < kIterations; ++i) {
    const auto first_deadline = Clock::now() + 1ms;
    weft::Timer t(first_deadline);
    const auto rearm_at = Clock::now() + std::chrono::microseconds(us(rng));
    Clock::time_point new_deadline;
    std::thread rearmer([&] {
      spin_until(rearm_at);
      new_deadline = Clock::now() + 1ms;
      t.set_at(new_deadline);
    });
    // Completes once the deadline it re-checked had passed: the first one
    // or the new one (the re-arm may land before or after the firing).
    const Clock::time_point woke = weft::block_on(await_timer(&t));
    CHECK(woke >= first_deadline);
    rearmer.join();
    // The last deadline passes in any case; awaiting again sees it.
    const Clock::time_point again = weft::block_on(await_timer(&t));
    CHECK(again >= new_deadline);
    CHECK(t.fired());
  }
}

TEST_CASE("re-arm from another thread races cancelling the awaiting task", "[timer][stress]") {
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> us(0, 300);
  for (int i = 0; i < kIterations / 3; ++i) {
    weft::Timer t(1h);
    weft::LocalExecutor ex;
    auto h = ex.spawn(await_timer(&t));
    while (ex.try_tick()) {
    }  // the task now waits on t
    const auto rearm_at = Clock::now() + std::chrono::microseconds(us(rng));
    std::thread rearmer([&] {
      spin_until(rearm_at);
      for (int k = 0; k < 3; ++k) t.set_after(1h);
    });
    spin_until(Clock::now() + std::chrono::microseconds(us(rng)));
    { auto dropped = std::move(h); }  // cancels the task: its awaiter goes
    while (ex.try_tick()) {
    }
    rearmer.join();
  }
  // No entry leaked a reference: the wheel holds none of the re-armed
  // hour-long timers once their Timers are gone.
  CHECK(weft::block_on(wheel_reaches(0)));
}

TEST_CASE("Timers armed, re-armed, awaited and cancelled on many threads", "[timer][stress]") {
  // Each thread owns its Timers and awaits them; its neighbour re-arms and
  // cancels them. What must hold: every await ends (no lost wake-up), and
  // the sanitizers see no race on the entries.
  constexpr int kThreads = 2;
  constexpr int kRounds = 500;
  std::vector<weft::Timer> timers(kThreads);
  std::atomic<bool> stop{false};
  std::vector<std::thread> owners, meddlers;
  std::atomic<int> awaits{0};
  for (int i = 0; i < kThreads; ++i) {
    owners.emplace_back([&, i] {
      for (int r = 0; r < kRounds; ++r) {
        timers[i].set_after(std::chrono::microseconds(100 * (r % 7)));
        weft::block_on(await_timer(&timers[i]));
        awaits.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count read after join
      }
    });
    meddlers.emplace_back([&, i] {
      std::mt19937 rng(static_cast<unsigned>(i));
      weft::Timer& t = timers[(i + 1) % kThreads];
      // acquire: pairs with the release store below (only a stop flag).
      while (!stop.load(std::memory_order_acquire)) {
        if (rng() % 2) {
          t.set_after(std::chrono::microseconds(rng() % 500));
        } else {
          t.cancel();
        }
        spin_until(Clock::now() + std::chrono::microseconds(rng() % 200));
      }
    });
  }
  for (auto& th : owners) th.join();
  // release: pairs with the meddlers' acquire loads.
  stop.store(true, std::memory_order_release);
  for (auto& th : meddlers) th.join();
  CHECK(awaits.load(std::memory_order_relaxed) == kThreads * kRounds);
}
