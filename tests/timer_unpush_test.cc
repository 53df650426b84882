// Cancelling a timer whose insert the driver has not taken yet takes the
// insert back (reactor/timer_op_stack.h, unpush; reactor.cc, cancel_timer)
// instead of queueing a cancel for the driver. What must hold: the stack
// gives back exactly the caller's node and only while it is on top; no
// other thread's timer is lost or fires early when many threads arm and
// cancel at once (run under tsan and asan_ubsan too); and the common "arm,
// then cancel" never reaches the driver.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "reactor/reactor.h"
#include "reactor/timer_op_stack.h"
#include "timer_test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft::Clock;

namespace {

struct Node {
  Node* next = nullptr;
};
using Stack = weft::detail::TimerOpStack<Node, &Node::next>;

// The nodes of a taken list, newest first.
std::vector<Node*> list(Node* n) {
  std::vector<Node*> v;
  for (; n; n = n->next) v.push_back(n);
  return v;
}

}  // namespace

TEST_CASE("unpush takes back only the node on top", "[timer][unpush]") {
  Stack s;
  Node a, b, c;
  s.push(&a);
  s.push(&b);
  CHECK_FALSE(s.unpush(&a));  // under b
  CHECK(s.unpush(&b));
  CHECK_FALSE(s.unpush(&b));  // already off
  s.push(&c);
  CHECK(s.unpush(&c));
  CHECK(s.unpush(&a));  // on top again once b and c left
  CHECK(s.empty());
  CHECK(s.take() == nullptr);
}

TEST_CASE("a taken node cannot be unpushed", "[timer][unpush]") {
  Stack s;
  Node a, b;
  s.push(&a);
  s.push(&b);
  CHECK(list(s.take()) == std::vector<Node*>{&b, &a});
  CHECK_FALSE(s.unpush(&b));
  CHECK(s.empty());
  // Taking back the top leaves the rest for the taker, in order.
  Node c, d;
  s.push(&c);
  s.push(&d);
  CHECK(s.unpush(&d));
  CHECK(list(s.take()) == std::vector<Node*>{&c});
}

TEST_CASE("arm-and-cancel on one thread mostly never reaches the driver", "[timer][unpush]") {
  // The driver takes inserts only when woken or at a deadline (none here
  // for an hour), so nearly every cancel finds its insert still on top. A
  // statistical bound, far from any scheduler's reach: at least one of
  // 10,000 cancels must have taken its insert back.
  constexpr uint64_t kTimers = 10'000;
  const uint64_t armed_before = weft::reactor_metrics().timers_armed;
  for (uint64_t i = 0; i < kTimers; ++i) {
    weft::Timer t(1h);
    t.cancel();
    CHECK_FALSE(t.fired());
  }
  const uint64_t armed = weft::reactor_metrics().timers_armed - armed_before;
  CHECK(armed < kTimers);
  // Whatever the driver did see was cancelled: the wheel drains.
  CHECK(weft::block_on(weft_test::wheel_reaches(0)));
}

TEST_CASE("threads arming and cancelling at once lose no timer", "[timer][unpush][stress]") {
  // Each thread arms a short timer it awaits, and around it timers it
  // cancels at once (taken back, or cancelled through the driver when
  // another thread's insert landed on top). Every awaited timer must fire,
  // never early; the cancelled ones must not fire; the wheel drains. A lost
  // insert hangs its block_on (the test's timeout reports it).
  constexpr int kThreads = 4;
  constexpr int kRounds = 300;
  std::atomic<int> fired{0};
  std::atomic<int> early{0};
  std::atomic<int> cancelled_fired{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < kRounds; ++r) {
        weft::Timer before(1h);
        const Clock::time_point deadline = Clock::now() + std::chrono::microseconds(200 * ((r + i) % 5));
        weft::Timer awaited(deadline);
        weft::Timer after(1h);
        after.cancel();  // on top: usually taken back
        if (after.fired()) cancelled_fired.fetch_add(1, std::memory_order_relaxed);
        before.cancel();  // under `awaited`: through the driver
        if (before.fired()) cancelled_fired.fetch_add(1, std::memory_order_relaxed);
        {
          weft::Timer quick(1h);
        }  // ~Timer cancels: taken back or not, it must not disturb `awaited`
        weft::block_on([](weft::Timer* t) -> weft::Task<void> { co_await *t; }(&awaited));
        // relaxed: counts, read after join.
        if (Clock::now() < deadline || !awaited.fired()) {
          early.fetch_add(1, std::memory_order_relaxed);
        }
        fired.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(fired.load(std::memory_order_relaxed) == kThreads * kRounds);
  CHECK(early.load(std::memory_order_relaxed) == 0);
  CHECK(cancelled_fired.load(std::memory_order_relaxed) == 0);
  CHECK(weft::block_on(weft_test::wheel_reaches(0)));
}
