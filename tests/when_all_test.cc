// when_all: results in order, real interleaving, ranges, the first
// exception cancelling the rest, cancellation of the awaiting task, and use
// under every executor and from other threads.
#include <catch2/catch.hpp>

#include <atomic>
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
