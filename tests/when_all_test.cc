// when_all: results in order, real interleaving, ranges, the first
// exception cancelling the rest, cancellation of the awaiting task, and use
// under every executor and from other threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::Counted;
using weft_test::drain;
using weft_test::Gate;

namespace {

weft::Task<int> value(int v) { co_return v; }
weft::Task<int> value_after_yields(int v, int yields) {
  for (int i = 0; i < yields; ++i) co_await weft::yield_now();
  co_return v;
}
weft::Task<void> nothing() { co_return; }
weft::Task<std::string&> ref_to(std::string& s) { co_return s; }

// Waits on `g` forever (unless opened), counting its frame.
weft::Task<int> blocked(Gate& g, std::atomic<int>* live, std::atomic<int>* destroyed) {
  Counted c(live, destroyed);
  co_await g;
  co_return 0;
}

weft::Task<int> throws_after_yield() {
  co_await weft::yield_now();
  throw std::runtime_error("child failed");
}

}  // namespace

TEST_CASE("when_all returns every result in argument order", "[when_all]") {
  std::string s = "ref";
  auto [a, b, c, d] = weft::block_on([](std::string& s)
                                         -> weft::Task<std::tuple<int, std::monostate, std::string&, int>> {
    co_return co_await weft::when_all(value_after_yields(1, 3), nothing(), ref_to(s), value(4));
  }(s));
  CHECK(a == 1);
  CHECK(&c == &s);
  CHECK(d == 4);
  auto empty = weft::block_on([]() -> weft::Task<std::tuple<>> { co_return co_await weft::when_all(); }());
  CHECK(std::tuple_size_v<decltype(empty)> == 0);
}

TEST_CASE("when_all's children run concurrently", "[when_all]") {
  // Each child waits for the other's message: run one after the other,
  // they would deadlock.
  weft::Channel<int> to_a(1), to_b(1);
  auto [x, y] = weft::block_on([](weft::Channel<int>& to_a, weft::Channel<int>& to_b)
                                   -> weft::Task<std::tuple<int, int>> {
    co_return co_await weft::when_all(
        [](weft::Channel<int>& in, weft::Channel<int>& out) -> weft::Task<int> {
          (void)co_await out.send(1);
          co_return *co_await in.recv();
        }(to_a, to_b),
        [](weft::Channel<int>& in, weft::Channel<int>& out) -> weft::Task<int> {
          int v = *co_await in.recv();
          (void)co_await out.send(v + 1);
          co_return v;
        }(to_b, to_a));
  }(to_a, to_b));
  CHECK(x == 2);
  CHECK(y == 1);
}

TEST_CASE("when_all over a range", "[when_all]") {
  weft::LocalExecutor ex;
  std::vector<int> got = ex.run([]() -> weft::Task<std::vector<int>> {
    std::vector<weft::Task<int>> tasks;
    for (int i = 0; i < 100; ++i) tasks.push_back(value_after_yields(i, i % 5));
    co_return co_await weft::when_all(std::move(tasks));
  }());
  REQUIRE(got.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(got[i] == i);

  int runs = 0;
  ex.run([](int& runs) -> weft::Task<void> {
    std::vector<weft::Task<void>> tasks;
    for (int i = 0; i < 10; ++i) {
      tasks.push_back([](int& runs) -> weft::Task<void> {
        co_await weft::yield_now();
        ++runs;
      }(runs));
    }
    co_await weft::when_all(std::move(tasks));
    std::vector<weft::Task<int>> none;
    std::vector<int> empty = co_await weft::when_all(std::move(none));
    CHECK(empty.empty());
  }(runs));
  CHECK(runs == 10);
}

TEST_CASE("the first exception cancels the other children before it is rethrown",
          "[when_all][cancel]") {
  std::atomic<int> live{0}, destroyed{0};
  Gate never;
  weft::LocalExecutor ex;
  bool caught = ex.run([](Gate& never, std::atomic<int>& live,
                          std::atomic<int>& destroyed) -> weft::Task<bool> {
    try {
      co_await weft::when_all(blocked(never, &live, &destroyed), throws_after_yield(),
                              blocked(never, &live, &destroyed));
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "child failed");
      // Already gone, not merely scheduled for destruction.
      CHECK(live.load() == 0);
      CHECK(destroyed.load() == 2);
      CHECK(never.waiting() == 2);  // (Gate keeps stale wakers; they are no-ops)
      co_return true;
    }
    co_return false;
  }(never, live, destroyed));
  CHECK(caught);
  never.open();  // the stale wakers of the destroyed children do nothing
  drain(ex);
  CHECK(destroyed.load() == 2);
}

TEST_CASE("cancelling the awaiting task cancels the children", "[when_all][cancel]") {
  std::atomic<int> live{0}, destroyed{0};
  Gate never;
  weft::LocalExecutor ex;
  {
    auto h = ex.spawn([](Gate& never, std::atomic<int>& live,
                         std::atomic<int>& destroyed) -> weft::Task<void> {
      co_await weft::when_all(blocked(never, &live, &destroyed), blocked(never, &live, &destroyed));
    }(never, live, destroyed));
    drain(ex);
    CHECK(live.load() == 2);
  }  // dropped: cancelled
  drain(ex);
  CHECK(live.load() == 0);
  CHECK(destroyed.load() == 2);
}

TEST_CASE("a moved-from task fails the await with a message", "[when_all][misuse]") {
  std::atomic<int> live{0}, destroyed{0};
  Gate never;
  auto run = [&]() -> weft::Task<void> {
    weft::Task<int> gone = value(1);
    weft::Task<int> stolen = std::move(gone);
    co_await weft::when_all(blocked(never, &live, &destroyed), std::move(gone));
  };
  CHECK_THROWS_WITH(weft::block_on(run()), Catch::Contains("moved-from"));
  CHECK(live.load() == 0);  // the child added before the bad one is gone too
}

TEST_CASE("children woken from other threads, on an Executor", "[when_all][stress]") {
  constexpr int kChildren = 8;
  constexpr int kItems = 2'000;  // per child
  weft::Executor ex;
  std::vector<std::unique_ptr<weft::Channel<int>>> chans;
  for (int i = 0; i < kChildren; ++i) chans.push_back(std::make_unique<weft::Channel<int>>(4));
  std::vector<std::thread> feeders;
  for (int i = 0; i < kChildren; ++i) {
    feeders.emplace_back([&chans, i] {
      weft::block_on([](weft::Channel<int>& ch) -> weft::Task<void> {
        for (int k = 0; k < kItems; ++k) (void)co_await ch.send(k);
        ch.close();
      }(*chans[i]));
    });
  }
  std::vector<int64_t> sums = weft_test::run_on_two_workers(
      ex, [](std::vector<std::unique_ptr<weft::Channel<int>>>& chans)
              -> weft::Task<std::vector<int64_t>> {
        std::vector<weft::Task<int64_t>> tasks;
        for (auto& ch : chans) {
          tasks.push_back([](weft::Channel<int>& ch) -> weft::Task<int64_t> {
            int64_t sum = 0;
            for (auto v = co_await ch.recv(); v.ok(); v = co_await ch.recv()) sum += *v;
            co_return sum;
          }(*ch));
        }
        co_return co_await weft::when_all(std::move(tasks));
      }(chans));
  for (auto& t : feeders) t.join();
  for (int64_t s : sums) CHECK(s == int64_t{kItems} * (kItems - 1) / 2);
}

TEST_CASE("children that keep waking each other still let other tasks run", "[when_all]") {
  // Two children ping-pong until `stop` is set by another task on the same
  // single-threaded executor. The group always has a ready child, so only
  // its run budget lets the parent yield and the other task run.
  weft::LocalExecutor ex;
  weft::Channel<int> ab(1), ba(1);
  bool stop = false;
  auto stopper = ex.spawn([](bool& stop) -> weft::Task<void> {
    stop = true;
    co_return;
  }(stop));
  auto player = [](weft::Channel<int>& in, weft::Channel<int>& out, bool& stop,
                   bool serve) -> weft::Task<int> {
    int rounds = 0;
    if (serve) (void)co_await out.send(0);
    while (!stop) {
      absl::StatusOr<int> v = co_await in.recv();
      if (!v.ok()) break;  // the other one stopped first
      ++rounds;
      (void)co_await out.send(*v + 1);
    }
    out.close();
    co_return rounds;
  };
  auto [a, b] = ex.run([](decltype(player)& player, weft::Channel<int>& ab,
                          weft::Channel<int>& ba, bool& stop) -> weft::Task<std::tuple<int, int>> {
    co_return co_await weft::when_all(player(ba, ab, stop, true), player(ab, ba, stop, false));
  }(player, ab, ba, stop));
  CHECK(stop);
  CHECK(a + b > 0);
}

namespace {

// Waits on `slot` over and over until `rounds` wake-ups, counting its frame.
weft::Task<int> wake_counter(weft_test::WakerSlot& slot, int rounds, std::atomic<int>* live,
                             std::atomic<int>* destroyed) {
  Counted c(live, destroyed);
  for (int i = 0; i < rounds; ++i) co_await slot;
  co_return rounds;
}

}  // namespace

// Parents awaiting when_all / when_any are cancelled from one thread while
// another thread keeps waking their children: every child frame must be
// destroyed exactly once (`live` ends at zero, never below), whether it was
// idle, queued in its group, or being pushed there when its parent went.
TEST_CASE("cancelling parents while their children are being woken", "[when_all][stress][cancel]") {
  constexpr int kRounds = 1'000;
  weft::Executor ex;
  std::atomic<int> live{0}, destroyed{0};
  weft_test::WakerSlot slots[2];
  std::atomic<bool> stop_waking{false};
  Gate canceller_done;
  std::thread waker([&] {
    // acquire: pairs with the release store at the end.
    while (!stop_waking.load(std::memory_order_acquire)) {
      for (auto& s : slots) {
        if (weft::Waker w = s.take()) std::move(w).wake();
      }
    }
  });
  std::thread canceller([&] {
    std::mt19937 rng(5);
    for (int i = 0; i < kRounds; ++i) {
      std::atomic<bool> started{false};
      auto parent = ex.spawn([](weft_test::WakerSlot* slots, std::atomic<int>& live,
                                std::atomic<int>& destroyed, bool any,
                                std::atomic<bool>* started) -> weft::Task<void> {
        // release: pairs with the canceller's acquire load.
        started->store(true, std::memory_order_release);
        if (any) {
          (void)co_await weft::when_any(wake_counter(slots[0], 50, &live, &destroyed),
                                        wake_counter(slots[1], 60, &live, &destroyed));
        } else {
          (void)co_await weft::when_all(wake_counter(slots[0], 50, &live, &destroyed),
                                        wake_counter(slots[1], 60, &live, &destroyed));
        }
      }(slots, live, destroyed, i % 2 == 0, &started));
      // acquire: pairs with the parent's release store.
      while (!started.load(std::memory_order_acquire)) std::this_thread::yield();
      weft_test::spin(rng() % 20'000);
    }  // each parent cancelled wherever it is
    canceller_done.open();
  });
  weft_test::run_on_two_workers(ex, [](Gate& canceller_done,
                                       std::atomic<int>& live) -> weft::Task<void> {
    co_await canceller_done;
    // The last cancelled parents are destroyed by the workers meanwhile.
    // acquire: pairs with Counted's decrement (relaxed) through the
    // executor's hand-offs; a plain poll is enough here.
    while (live.load(std::memory_order_acquire) != 0) co_await weft::yield_now();
  }(canceller_done, live));
  canceller.join();
  stop_waking.store(true, std::memory_order_release);
  waker.join();
  CHECK(live.load() == 0);
  CHECK(destroyed.load() > 0);
}
