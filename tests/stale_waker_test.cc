// Issue #9 item 6: a Waker is good for the suspension it was taken in. A
// Waker kept past it (a copy an awaiter forgot, a leaf that fires twice)
// must not resume a later, unrelated await of the same task: it is inert
// once the task has run again. Before wakers were suspension-scoped, such a
// wake ended a sleep early, silently.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "weft.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kSleep = 200ms;

// A leaf that keeps a copy of its Waker for later (the misuse), and wakes
// the original right away (the legitimate wake of this suspension).
struct KeepAndWake {
  std::mutex* mu;
  std::optional<weft::Waker>* kept;
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    weft::Waker w = weft::current_waker(h);
    {
      std::lock_guard<std::mutex> l(*mu);
      *kept = w;
    }
    std::move(w).wake();  // the task is RUNNING: it runs again after this
  }
  void await_resume() const noexcept {}
};

weft::Waker take(std::mutex& mu, std::optional<weft::Waker>& kept) {
  std::lock_guard<std::mutex> l(mu);
  weft::Waker w = std::move(*kept);
  kept.reset();
  return w;
}
}  // namespace

TEST_CASE("a kept waker woken before a later sleep suspends does not end it",
          "[waker][stale]") {
  std::mutex mu;
  std::optional<weft::Waker> kept;
  Clock::duration slept{};
  weft::block_on([&]() -> weft::Task<void> {
    co_await KeepAndWake{&mu, &kept};
    // A later await. The stale wake comes while the task still runs, just
    // before it suspends in the sleep.
    take(mu, kept).wake();
    const auto start = Clock::now();
    co_await weft::sleep_for(kSleep);
    slept = Clock::now() - start;
  }());
  CHECK(slept >= kSleep);
}

TEST_CASE("a kept waker woken from another thread during a later sleep does not end it",
          "[waker][stale]") {
  weft::Executor ex;
  std::mutex mu;
  std::optional<weft::Waker> kept;
  std::atomic<bool> sleeping{false};
  std::thread stale([&] {
    // acquire: pairs with the store below; the task is at (or just before)
    // the sleep's suspension.
    while (!sleeping.load(std::memory_order_acquire)) std::this_thread::yield();
    take(mu, kept).wake();
  });
  Clock::duration slept = ex.run([&]() -> weft::Task<Clock::duration> {
    co_await KeepAndWake{&mu, &kept};
    const auto start = Clock::now();
    sleeping.store(true, std::memory_order_release);
    co_await weft::sleep_for(kSleep);
    co_return Clock::now() - start;
  }());
  stale.join();
  CHECK(slept >= kSleep);
}

TEST_CASE("a kept waker does not resume a later await of a blocking job", "[waker][stale]") {
  std::mutex mu;
  std::optional<weft::Waker> kept;
  int r = weft::block_on([&]() -> weft::Task<int> {
    co_await KeepAndWake{&mu, &kept};
    // The job outlasts the stale wake's effect by far (a re-run is
    // microseconds away); its result is what the await must deliver.
    auto job = weft::unblock([] {
      std::this_thread::sleep_for(kSleep);
      return 7;
    });
    take(mu, kept).wake();  // stale: must not resume the await below early
    co_return co_await job;  // before the fix: aborted, "resumed before the job finished"
  }());
  CHECK(r == 7);
}
