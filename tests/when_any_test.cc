// when_any: the first to finish wins; the losers' frames are destroyed
// before it returns, whether they were idle or already woken; what the
// losers waited on is left consistent (a channel item they were promised is
// not lost); and the awaiting task's own cancellation.
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

// Waits on `g`, counting its frame; `resumed` counts passing the gate.
weft::Task<int> after_gate(Gate& g, int v, std::atomic<int>* live, std::atomic<int>* destroyed,
                           std::atomic<int>* resumed) {
  Counted c(live, destroyed);
  co_await g;
  resumed->fetch_add(1, std::memory_order_relaxed);
  co_return v;
}

}  // namespace

TEST_CASE("the first to finish wins; the losers are destroyed before it returns",
          "[when_any][cancel]") {
  std::atomic<int> live{0}, destroyed{0}, resumed{0};
  Gate g1, g2, g3;
  weft::LocalExecutor ex;
  auto h = ex.spawn([](Gate& g1, Gate& g2, Gate& g3, std::atomic<int>& live,
                       std::atomic<int>& destroyed, std::atomic<int>& resumed)
                        -> weft::Task<std::pair<size_t, int>> {
    auto r = co_await weft::when_any(after_gate(g1, 1, &live, &destroyed, &resumed),
                                     after_gate(g2, 2, &live, &destroyed, &resumed),
                                     after_gate(g3, 3, &live, &destroyed, &resumed));
    // Right here the losers are gone, not merely scheduled for it.
    CHECK(live.load() == 0);
    CHECK(destroyed.load() == 3);  // the winner's frame too (its result was taken)
    co_return std::make_pair(r.index(), std::get<1>(r));
  }(g1, g2, g3, live, destroyed, resumed));
  drain(ex);
  CHECK(live.load() == 3);
  g2.open();
  drain(ex);
  REQUIRE(h.is_finished());
  auto [index, v] = ex.run([](weft::JoinHandle<std::pair<size_t, int>>& h)
                               -> weft::Task<std::pair<size_t, int>> { co_return co_await h; }(h));
  CHECK(index == 1);
  CHECK(v == 2);
  CHECK(resumed.load() == 1);
  g1.open();
  g3.open();
  drain(ex);
  CHECK(resumed.load() == 1);  // the losers never ran again
}

TEST_CASE("a loser already woken when the winner finishes is destroyed, not run",
          "[when_any][cancel]") {
  std::atomic<int> live{0}, destroyed{0}, resumed{0};
  Gate g1, g2;
  weft::LocalExecutor ex;
  auto h = ex.spawn([](Gate& g1, Gate& g2, std::atomic<int>& live, std::atomic<int>& destroyed,
                       std::atomic<int>& resumed) -> weft::Task<size_t> {
    auto r = co_await weft::when_any(after_gate(g1, 1, &live, &destroyed, &resumed),
                                     after_gate(g2, 2, &live, &destroyed, &resumed));
    CHECK(live.load() == 0);
    co_return r.index();
  }(g1, g2, live, destroyed, resumed));
  drain(ex);
  g1.open();  // both are woken before the parent runs: 1 first, then 2
  g2.open();
  drain(ex);
  CHECK(resumed.load() == 1);
  CHECK(destroyed.load() == 2);
  CHECK(ex.run([](weft::JoinHandle<size_t>& h) -> weft::Task<size_t> { co_return co_await h; }(h)) == 0);
}

TEST_CASE("a child that finishes at once keeps the others from starting", "[when_any]") {
  std::atomic<int> live{0}, destroyed{0}, resumed{0};
  Gate never;
  auto r = weft::block_on([](Gate& never, std::atomic<int>& live, std::atomic<int>& destroyed,
                             std::atomic<int>& resumed) -> weft::Task<std::variant<int, int>> {
    co_return co_await weft::when_any(value(7), after_gate(never, 2, &live, &destroyed, &resumed));
  }(never, live, destroyed, resumed));
  CHECK(r.index() == 0);
  CHECK(std::get<0>(r) == 7);
  CHECK(destroyed.load() == 0);  // its body never started
}

TEST_CASE("the winner's exception is rethrown after the others are cancelled", "[when_any]") {
  std::atomic<int> live{0}, destroyed{0}, resumed{0};
  Gate never;
  auto run = [&]() -> weft::Task<void> {
    (void)co_await weft::when_any(after_gate(never, 1, &live, &destroyed, &resumed),
                                  []() -> weft::Task<int> {
                                    co_await weft::yield_now();
                                    throw std::out_of_range("winner threw");
                                  }());
  };
  CHECK_THROWS_AS(weft::block_on(run()), std::out_of_range);
  CHECK(live.load() == 0);
  CHECK(destroyed.load() == 1);
}

TEST_CASE("when_any over a range", "[when_any]") {
  std::atomic<int> live{0}, destroyed{0}, resumed{0};
  Gate gates[4];
  weft::LocalExecutor ex;
  auto h = ex.spawn([](Gate* gates, std::atomic<int>& live, std::atomic<int>& destroyed,
                       std::atomic<int>& resumed) -> weft::Task<weft::AnyResult<int>> {
    std::vector<weft::Task<int>> tasks;
    for (int i = 0; i < 4; ++i) tasks.push_back(after_gate(gates[i], 10 * i, &live, &destroyed, &resumed));
    co_return co_await weft::when_any(std::move(tasks));
  }(gates, live, destroyed, resumed));
  drain(ex);
  gates[2].open();
  drain(ex);
  auto r = ex.run([](weft::JoinHandle<weft::AnyResult<int>>& h) -> weft::Task<weft::AnyResult<int>> {
    co_return co_await h;
  }(h));
  CHECK(r.index == 2);
  CHECK(r.value == 20);
  CHECK(live.load() == 0);
  CHECK_THROWS_AS(weft::block_on(weft::when_any(std::vector<weft::Task<int>>{})),
                  std::invalid_argument);
}

TEST_CASE("a loser waiting on a channel leaves it consistent", "[when_any][cancel]") {
  weft::Channel<int> ch(1);
  Gate g;
  weft::LocalExecutor ex;
  auto h = ex.spawn([](weft::Channel<int>& ch, Gate& g) -> weft::Task<size_t> {
    auto r = co_await weft::when_any(
        [](weft::Channel<int>& ch) -> weft::Task<int> { co_return *co_await ch.recv(); }(ch),
        [](Gate& g) -> weft::Task<void> { co_await g; }(g));
    co_return r.index();
  }(ch, g));
  drain(ex);
  // Promise an item to the receiving loser and open the gate in one go: the
  // gate child runs first and wins; the receiver is cancelled after it was
  // promised the item, so the item must stay in the channel.
  g.open();
  REQUIRE(ch.try_send(5).ok());
  drain(ex);
  CHECK(ex.run([](weft::JoinHandle<size_t>& h) -> weft::Task<size_t> { co_return co_await h; }(h)) == 1);
  absl::StatusOr<int> left = ch.try_recv();
  REQUIRE(left.ok());
  CHECK(*left == 5);
}

TEST_CASE("cancelling the awaiting task cancels every child", "[when_any][cancel]") {
  std::atomic<int> live{0}, destroyed{0}, resumed{0};
  Gate g1, g2;
  weft::LocalExecutor ex;
  {
    auto h = ex.spawn([](Gate& g1, Gate& g2, std::atomic<int>& live, std::atomic<int>& destroyed,
                         std::atomic<int>& resumed) -> weft::Task<void> {
      (void)co_await weft::when_any(after_gate(g1, 1, &live, &destroyed, &resumed),
                                    after_gate(g2, 2, &live, &destroyed, &resumed));
    }(g1, g2, live, destroyed, resumed));
    drain(ex);
    g1.open();  // a child is woken (scheduled in the group) when the parent goes
  }
  drain(ex);
  CHECK(live.load() == 0);
  CHECK(destroyed.load() == 2);
  CHECK(resumed.load() == 0);
}

// Two producer threads feed two channels; a consumer receives with
// when_any(recv(a), recv(b)) over and over on a two-worker Executor. Each
// round one receiver wins and the other is cancelled, sometimes after it was
// already promised an item. Every item must arrive exactly once.
TEST_CASE("when_any racing two channel receivers loses no item", "[when_any][stress]") {
  constexpr int kItems = 20'000;  // per channel
  weft::Executor ex;
  weft::Channel<int> a(2), b(2);
  auto produce = [](weft::Channel<int>& ch, int base) {
    weft::block_on([](weft::Channel<int>& ch, int base) -> weft::Task<void> {
      for (int i = 0; i < kItems; ++i) (void)co_await ch.send(base + i);
    }(ch, base));
  };
  std::thread pa(produce, std::ref(a), 0), pb(produce, std::ref(b), kItems);
  std::vector<int> got = weft_test::run_on_two_workers(
      ex, [](weft::Channel<int>& a, weft::Channel<int>& b) -> weft::Task<std::vector<int>> {
        std::vector<int> got;
        auto recv = [](weft::Channel<int>& ch) -> weft::Task<int> { co_return *co_await ch.recv(); };
        while (got.size() < size_t{2 * kItems}) {
          auto r = co_await weft::when_any(recv(a), recv(b));
          got.push_back(r.index() == 0 ? std::get<0>(r) : std::get<1>(r));
        }
        co_return got;
      }(a, b));
  pa.join();
  pb.join();
  std::vector<int> seen(2 * kItems, 0);
  int64_t last_a = -1, last_b = -1;
  for (int v : got) {
    REQUIRE(seen[v] == 0);
    seen[v] = 1;
    int64_t& last = v < kItems ? last_a : last_b;
    REQUIRE(v > last);  // each channel's items still arrive in order
    last = v;
  }
  CHECK(a.size() == 0);
  CHECK(b.size() == 0);
}
