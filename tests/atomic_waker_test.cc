// AtomicWaker (executor/atomic_waker.h): register / take / close / withdraw
// racing across threads. Run under TSan with several runs per test:
//   bazel test --config=tsan --runs_per_test=5 //tests:atomic_waker_test
// A lost wake-up hangs a test (the test timeout fails it); a wake delivered
// to the wrong suspension fails a count; a Waker dropped twice or never is
// a use-after-free or a leak under ASan.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using weft_test::Counted;
using weft_test::Gate;

namespace {

// A one-shot event built the way JoinHandle, timers and blocking jobs use
// the slot: the awaiter registers and withdraws in its destructor; the event
// publishes its value, then closes the slot and wakes what it took.
struct OneShot {
  weft::AtomicWaker slot;
  int value = 0;  // written before close(), read after closed()

  void set(int v) {
    value = v;
    slot.close().wake();
  }

  struct Awaiter {
    OneShot* ev;
    bool registered = false;
    ~Awaiter() {
      if (registered) ev->slot.withdraw();  // cancelled while suspended
    }
    bool await_ready() const noexcept { return ev->slot.closed(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      registered = ev->slot.register_waker(weft::current_waker(h));
      return registered;
    }
    int await_resume() {
      registered = false;
      // Only close() wakes this slot, and a Waker never outlives its
      // suspension: being resumed means closed.
      if (!ev->slot.closed()) throw std::logic_error("resumed before the event");
      return ev->value;
    }
  };
  Awaiter operator co_await() noexcept { return Awaiter{this}; }
};

weft::Task<int> wait_event(OneShot& ev, std::atomic<int>* live) {
  Counted c(live);
  co_return co_await ev;
}
weft::Task<void> await_gate(Gate& g) { co_await g; }

// A re-armable slot: the task registers at every await; any thread takes.
struct ReSlot {
  weft::AtomicWaker slot;
  struct Awaiter {
    ReSlot* s;
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      // False: a take() overlapped the registration; that counts as the
      // wake (don't suspend).
      return s->slot.register_waker(weft::current_waker(h));
    }
    void await_resume() const noexcept {}
  };
  Awaiter operator co_await() noexcept { return Awaiter{this}; }
};

}  // namespace

TEST_CASE("close racing register: every await gets the value, none hangs",
          "[atomic_waker][stress]") {
  constexpr int kRounds = 5'000;
  weft::Executor ex;
  Gate stop;
  std::thread second([&] { ex.run(await_gate(stop)); });
  std::atomic<int> live{0};
  int wrong = 0;
  ex.run([&]() -> weft::Task<void> {
    for (int i = 0; i < kRounds; ++i) {
      OneShot ev;
      auto h = ex.spawn(wait_event(ev, &live));
      std::thread setter([&ev, i] { ev.set(i); });
      if (co_await h != i) ++wrong;
      setter.join();
    }
  }());
  stop.open();
  second.join();
  CHECK(wrong == 0);
  CHECK(live == 0);
}

TEST_CASE("withdraw (a cancelled await) racing close: nothing lost, leaked or woken twice",
          "[atomic_waker][cancel][stress]") {
  constexpr int kRounds = 5'000;
  weft::Executor ex;
  Gate stop;
  std::thread second([&] { ex.run(await_gate(stop)); });
  std::atomic<int> live{0};
  int delivered = 0, cancelled = 0, wrong = 0;
  ex.run([&]() -> weft::Task<void> {
    for (int i = 0; i < kRounds; ++i) {
      OneShot ev;
      auto h = ex.spawn(wait_event(ev, &live));
      if (i % 3 == 0) co_await weft::yield_now();  // sometimes let it suspend first
      std::thread setter([&ev, i] { ev.set(i); });
      // Cancel while the event may be closing: the awaiter's destructor
      // withdraws on whichever thread destroys the frame.
      auto r = co_await h.cancel();
      if (r.has_value()) {
        ++delivered;
        if (*r != i) ++wrong;
      } else {
        ++cancelled;
      }
      setter.join();
    }
  }());
  stop.open();
  second.join();
  CHECK(delivered + cancelled == kRounds);
  CHECK(wrong == 0);
  CHECK(live == 0);  // every frame destroyed, with its registration
  INFO("delivered " << delivered << ", cancelled " << cancelled);
}

// Re-registration: one task waits on the same slot again and again; two
// threads take and wake whatever is registered. take() racing take(), and
// take() racing the registration, must never lose the wake that ends a
// suspension (the task would hang) or resume the task twice for one.
TEST_CASE("take racing take and re-registration: every suspension ends exactly once",
          "[atomic_waker][stress]") {
  constexpr int kRounds = 50'000;
  weft::Executor ex;
  ReSlot slot;  // re-registered at every await
  std::atomic<bool> done{false};
  std::vector<std::thread> wakers;
  for (int t = 0; t < 2; ++t) {
    wakers.emplace_back([&] {
      // acquire: pairs with the release store after the run.
      while (!done.load(std::memory_order_acquire)) {
        if (weft::Waker w = slot.slot.take()) std::move(w).wake();
      }
    });
  }
  int n = ex.run([&]() -> weft::Task<int> {
    int i = 0;
    for (; i < kRounds; ++i) co_await slot;
    co_return i;
  }());
  done.store(true, std::memory_order_release);
  for (auto& t : wakers) t.join();
  CHECK(n == kRounds);
}

TEST_CASE("a closed slot refuses registration; a withdrawn one can be registered again",
          "[atomic_waker]") {
  weft::LocalExecutor ex;
  OneShot ev;
  std::atomic<int> live{0};
  auto first = ex.spawn(wait_event(ev, &live));
  while (ex.try_tick()) {
  }
  first = {};  // cancels the suspended await: its destructor withdraws
  while (ex.try_tick()) {
  }
  CHECK(live == 0);
  CHECK_FALSE(ev.slot.closed());
  CHECK_FALSE(ev.slot.take());  // withdrawn: nothing registered
  auto second = ex.spawn(wait_event(ev, &live));
  while (ex.try_tick()) {
  }
  CHECK_FALSE(second.is_finished());
  ev.set(9);
  CHECK(ev.slot.closed());
  while (ex.try_tick()) {
  }
  REQUIRE(second.is_finished());
  CHECK(ex.run([&]() -> weft::Task<int> { co_return co_await second; }()) == 9);
  // Closed for good: a registration fails at once, a take finds nothing.
  auto third = ex.spawn(wait_event(ev, &live));
  while (ex.try_tick()) {
  }
  CHECK(third.is_finished());
}
