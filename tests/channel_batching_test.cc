// Issue #11: a channel between pinned workers (LocalPool) is cheap across
// threads: a send wakes the receiver only when it waits in recv(), so a
// burst that arrives while the receiver is awake costs it one wake for the
// whole burst, not one per item.
//
// The observable is the receiver task's run count (TaskInfo::runs from
// LocalPool::dump(): times a thread started resuming it). Each wake of an
// idle task is one run; a send that woke a task not waiting in recv()
// would show as a run the task did not ask for. The budget is off
// (budget = 0), so no run comes from a cooperative yield either.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using weft_test::Gate;

namespace {

constexpr int kBurst = 10'000;

// The single task on worker 1 (the receiver), as dump() sees it now.
weft::TaskInfo receiver_info(const weft::LocalPool& pool) {
  for (;;) {
    std::vector<weft::TaskDump> d = pool.dump();
    if (d.at(1).tasks.size() == 1) return d[1].tasks[0];
    std::this_thread::yield();  // not spawned yet, or finishing
  }
}

// Yields until the receiver is suspended (idle) having run at least `runs`
// times; returns what dump() then shows.
weft::TaskInfo wait_receiver_idle(const weft::LocalPool& pool, uint64_t runs) {
  for (;;) {
    weft::TaskInfo t = receiver_info(pool);
    if (t.status == weft::TaskStatus::kIdle && t.runs >= runs) return t;
    std::this_thread::yield();
  }
}

weft::Task<void> send_burst(weft::Channel<int>& ch, int from) {
  for (int i = 0; i < kBurst; ++i) {
    auto r = co_await ch.send(from + i);
    if (!r.ok()) co_return;
  }
}

}  // namespace

TEST_CASE("channel across pinned workers: one wake per burst while the receiver is awake",
          "[channel][local_pool][batching]") {
  weft::LocalPool pool({.threads = 2, .budget = 0});
  weft::Channel<int> ch;  // unbounded: the sender never waits
  std::atomic<bool> burst_sent{false};
  std::atomic<bool> drained{false};
  Gate second_round;

  auto receiver = pool.spawn_pinned_on(1, [&]() -> weft::Task<int> {
    return [](weft::Channel<int>& ch, std::atomic<bool>& burst_sent, std::atomic<bool>& drained,
              Gate& second_round) -> weft::Task<int> {
      int sum_ok = 0;  // items received in order
      // Run 1 ends here: the channel is empty, the receiver waits in recv().
      auto first = co_await ch.recv();
      // Run 2: woken by the first send. It stays awake (never suspends)
      // until the whole burst is in the channel, then drains it without
      // waiting: the other kBurst - 1 sends found no receiver waiting.
      if (first.ok() && *first == 0) ++sum_ok;
      // acquire: pairs with the sender's release store after its burst.
      while (!burst_sent.load(std::memory_order_acquire)) std::this_thread::yield();
      for (int i = 1; i < kBurst; ++i) {
        auto v = co_await ch.recv();  // never suspends: the items are there
        if (v.ok() && *v == i) ++sum_ok;
      }
      // release: pairs with the test's acquire load.
      drained.store(true, std::memory_order_release);
      // Now it waits on something else: a second burst must not wake it.
      co_await second_round;
      for (int i = 0; i < kBurst; ++i) {
        auto v = co_await ch.recv();
        if (v.ok() && *v == kBurst + i) ++sum_ok;
      }
      co_return sum_ok;
    }(ch, burst_sent, drained, second_round);
  });
  CHECK(wait_receiver_idle(pool, 1).runs == 1);

  auto first = pool.spawn_pinned_on(0, [&]() -> weft::Task<void> {
    return [](weft::Channel<int>& ch, std::atomic<bool>& burst_sent) -> weft::Task<void> {
      co_await send_burst(ch, 0);
      // release: pairs with the receiver's acquire load.
      burst_sent.store(true, std::memory_order_release);
    }(ch, burst_sent);
  });
  // acquire: pairs with the receiver's release store.
  while (!drained.load(std::memory_order_acquire)) std::this_thread::yield();
  // The whole first burst: one wake.
  CHECK(wait_receiver_idle(pool, 2).runs == 2);

  // The second burst while the receiver waits on the gate, not in recv().
  auto second = pool.spawn_pinned_on(0, [&] { return send_burst(ch, kBurst); });
  weft::block_on([&]() -> weft::Task<void> {
    co_await first;
    co_await second;
  }());
  // Every send has returned: none woke the receiver.
  weft::TaskInfo after = receiver_info(pool);
  CHECK(after.runs == 2);
  CHECK(after.status == weft::TaskStatus::kIdle);

  second_round.open();
  CHECK(weft::block_on([&]() -> weft::Task<int> { co_return co_await receiver; }()) == 2 * kBurst);
}

TEST_CASE("channel across pinned workers: a receiver runs once per wait, never per item",
          "[channel][local_pool][batching]") {
  // Sender and receiver race freely. However the two threads interleave,
  // the receiver is woken only out of a recv() that found the channel
  // empty, so its runs are at most its waits + 1 (its first run).
  weft::LocalPool pool({.threads = 2, .budget = 0});
  weft::Channel<int> ch;
  std::atomic<uint64_t> waits{0};
  std::atomic<uint64_t> runs_at_end{0};
  std::atomic<int> in_order{0};

  auto receiver = pool.spawn_pinned_on(1, [&]() -> weft::Task<void> {
    return [](const weft::LocalPool& pool, weft::Channel<int>& ch, std::atomic<uint64_t>& waits,
              std::atomic<uint64_t>& runs_at_end, std::atomic<int>& in_order) -> weft::Task<void> {
      uint64_t my_waits = 0;
      int ok = 0;
      for (int i = 0; i < kBurst; ++i) {
        auto v = ch.try_recv();
        if (!v.ok()) {
          ++my_waits;  // may suspend (or find an item that just arrived)
          v = co_await ch.recv();
        }
        if (v.ok() && *v == i) ++ok;
      }
      // Our own entry: the only task on this worker, running now.
      std::vector<weft::TaskDump> d = pool.dump();
      // relaxed (all three): read after the JoinHandle is awaited, which
      // orders them.
      runs_at_end.store(d.at(1).tasks.size() == 1 ? d[1].tasks[0].runs : 0,
                        std::memory_order_relaxed);
      waits.store(my_waits, std::memory_order_relaxed);
      in_order.store(ok, std::memory_order_relaxed);
    }(pool, ch, waits, runs_at_end, in_order);
  });
  auto sender = pool.spawn_pinned_on(0, [&] { return send_burst(ch, 0); });
  weft::block_on([&]() -> weft::Task<void> {
    co_await sender;
    co_await receiver;
  }());
  const uint64_t runs = runs_at_end.load(std::memory_order_relaxed);
  const uint64_t w = waits.load(std::memory_order_relaxed);
  INFO("receiver runs " << runs << ", waits " << w << ", items " << kBurst);
  CHECK(in_order.load(std::memory_order_relaxed) == kBurst);
  CHECK(runs >= 1);
  CHECK(runs <= w + 1);
}
