// JoinSet: results in finish order, errors, abort_all, shutdown, cancel on
// drop, a cancel-safe join_next (nothing lost when it loses a when_any), and
// block_on(handle) from a plain thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::Counted;
using weft_test::drain;
using weft_test::Gate;

namespace {

weft::Task<int> after_gate(Gate& g, int v, std::atomic<int>* live) {
  Counted c(live);
  co_await g;
  co_return v;
}

weft::Task<int> throw_after(Gate& g) {
  co_await g;
  throw std::runtime_error("boom");
}

weft::Task<void> yield_task() { co_await weft::yield_now(); }

weft::Task<int> yields_then(int v, int yields) {
  for (int i = 0; i < yields; ++i) co_await weft::yield_now();
  co_return v;
}

}  // namespace

TEST_CASE("join_next gives results in the order the tasks finished", "[join_set]") {
  weft::LocalExecutor ex;
  std::atomic<int> live{0};
  Gate g[3];
  weft::JoinSet<int> set;
  for (int i = 0; i < 3; ++i) set.spawn(ex, after_gate(g[i], i, &live));
  CHECK(set.len() == 3);
  drain(ex);
  CHECK(live.load() == 3);
  g[2].open();
  drain(ex);
  g[0].open();
  drain(ex);
  g[1].open();
  std::vector<int> order = ex.run([](weft::JoinSet<int>& set) -> weft::Task<std::vector<int>> {
    std::vector<int> out;
    while (std::optional<int> r = co_await set.join_next()) out.push_back(*r);
    co_return out;
  }(set));
  CHECK(order == std::vector<int>{2, 0, 1});
  CHECK(set.empty());
  CHECK(live.load() == 0);
}

TEST_CASE("join_next on an empty set is nullopt at once", "[join_set]") {
  weft::LocalExecutor ex;
  weft::JoinSet<int> set;
  CHECK_FALSE(ex.run(set.join_next()).has_value());
  weft::JoinSet<void> vset;
  CHECK_FALSE(ex.run(vset.join_next()));
}

TEST_CASE("a task that threw rethrows from join_next and leaves the set", "[join_set]") {
  weft::LocalExecutor ex;
  std::atomic<int> live{0};
  Gate bad, good;
  weft::JoinSet<int> set;
  set.spawn(ex, throw_after(bad));
  set.spawn(ex, after_gate(good, 7, &live));
  bad.open();
  drain(ex);
  CHECK_THROWS_WITH(ex.run(set.join_next()), "boom");
  CHECK(set.len() == 1);
  good.open();
  std::optional<int> r = ex.run(set.join_next());
  REQUIRE(r.has_value());
  CHECK(*r == 7);
}

TEST_CASE("abort_all cancels; join_next reports TaskCancelled, or the result if it finished first",
          "[join_set][cancel]") {
  weft::LocalExecutor ex;
  std::atomic<int> live{0};
  Gate never, opened;
  opened.open();
  weft::JoinSet<int> set;
  set.spawn(ex, after_gate(opened, 1, &live));
  set.spawn(ex, after_gate(never, 2, &live));
  drain(ex);  // the first finished, the second waits
  CHECK(live.load() == 1);
  set.abort_all();
  CHECK(set.len() == 2);
  int results = 0, cancelled = 0;
  ex.run([](weft::JoinSet<int>& set, int& results, int& cancelled) -> weft::Task<void> {
    for (;;) {
      try {
        std::optional<int> r = co_await set.join_next();
        if (!r) break;
        CHECK(*r == 1);
        ++results;
      } catch (const weft::TaskCancelled&) {
        ++cancelled;
      }
    }
  }(set, results, cancelled));
  CHECK(results == 1);
  CHECK(cancelled == 1);
  CHECK(live.load() == 0);
}

TEST_CASE("destroying the set cancels what still runs", "[join_set][cancel]") {
  weft::LocalExecutor ex;
  std::atomic<int> live{0};
  Gate g;
  {
    weft::JoinSet<int> set;
    for (int i = 0; i < 4; ++i) set.spawn(ex, after_gate(g, i, &live));
    drain(ex);
    CHECK(live.load() == 4);
  }
  drain(ex);  // the cancelled frames are destroyed on their executor
  CHECK(live.load() == 0);
  g.open();  // nobody is left to wake
  drain(ex);
}

TEST_CASE("a task cancelled before it ever ran still leaves the set", "[join_set][cancel]") {
  weft::LocalExecutor ex;
  std::atomic<int> live{0};
  Gate g;
  weft::JoinSet<int> set;
  set.spawn(ex, after_gate(g, 1, &live));
  set.abort_all();  // before any tick: its body never starts
  CHECK_THROWS_AS(ex.run(set.join_next()), weft::TaskCancelled);
  CHECK(set.empty());
  CHECK(live.load() == 0);
}

TEST_CASE("shutdown waits until every frame is gone", "[join_set][cancel]") {
  weft::Executor ex;
  std::atomic<int> live{0};
  Gate g;
  weft::JoinSet<int> set;
  int after = weft_test::run_on_two_workers(
      ex, [](weft::Executor& ex, weft::JoinSet<int>& set, Gate& g,
             std::atomic<int>& live) -> weft::Task<int> {
        for (int i = 0; i < 50; ++i) set.spawn(ex, after_gate(g, i, &live));
        for (int i = 0; i < 50; ++i) set.spawn(ex, yields_then(i, 3));
        co_await weft::yield_now();
        co_await set.shutdown();
        co_return live.load();
      }(ex, set, g, live));
  CHECK(after == 0);
  CHECK(set.empty());
}

TEST_CASE("join_next that loses a when_any loses no result", "[join_set][cancel][stress]") {
  constexpr int kTasks = 300;
  weft::Executor ex;
  weft::JoinSet<int> set;
  std::multiset<int> got = weft_test::run_on_two_workers(
      ex, [](weft::Executor& ex, weft::JoinSet<int>& set) -> weft::Task<std::multiset<int>> {
        for (int i = 0; i < kTasks; ++i) set.spawn(ex, yields_then(i, i % 4));
        std::multiset<int> out;
        while (!set.empty()) {
          auto r = co_await weft::when_any(set.join_next(), yield_task());
          if (r.index() == 0) {
            std::optional<int> v = std::get<0>(std::move(r));
            REQUIRE(v.has_value());
            out.insert(*v);
          }
        }
        co_return out;
      }(ex, set));
  REQUIRE(got.size() == kTasks);
  int expect = 0;
  for (int v : got) CHECK(v == expect++);
}

TEST_CASE("the global executor and JoinSet<void>", "[join_set]") {
  std::atomic<int> ran{0};
  auto count = [](std::atomic<int>* ran) -> weft::Task<void> {
    ran->fetch_add(1, std::memory_order_relaxed);
    co_return;
  };
  int joined = weft::block_on([](std::atomic<int>* ran, auto count) -> weft::Task<int> {
    weft::JoinSet<void> set;
    for (int i = 0; i < 10; ++i) set.spawn(count(ran));
    int n = 0;
    while (co_await set.join_next()) ++n;
    co_return n;
  }(&ran, count));
  CHECK(joined == 10);
  CHECK(ran.load() == 10);
}

TEST_CASE("block_on(handle) blocks a plain thread until the task finishes", "[join]") {
  weft::JoinHandle<int> h = weft::spawn(yields_then(42, 5));
  CHECK(weft::block_on(std::move(h)) == 42);
  Gate g;
  weft::JoinHandle<int> bad = weft::spawn(throw_after(g));
  std::thread opener([&] { g.open(); });
  CHECK_THROWS_WITH(weft::block_on(std::move(bad)), "boom");
  opener.join();
  Gate never;
  std::atomic<int> live{0};
  weft::JoinHandle<int> aborted = weft::spawn(after_gate(never, 1, &live));
  aborted.abort();
  CHECK_THROWS_AS(weft::block_on(std::move(aborted)), weft::TaskCancelled);
}

TEST_CASE("cancel() on a JoinHandle<void> says which happened", "[join][cancel]") {
  weft::LocalExecutor ex;
  Gate never;
  auto pending = ex.spawn([](Gate& g) -> weft::Task<void> { co_await g; }(never));
  auto done = ex.spawn(yield_task());
  drain(ex);
  auto [a, b] = ex.run([](weft::JoinHandle<void>& p, weft::JoinHandle<void>& d)
                           -> weft::Task<std::pair<weft::CancelOutcome, weft::CancelOutcome>> {
    weft::CancelOutcome a = co_await p.cancel();
    weft::CancelOutcome b = co_await d.cancel();
    co_return std::make_pair(a, b);
  }(pending, done));
  CHECK(a == weft::CancelOutcome::kCancelled);
  CHECK(b == weft::CancelOutcome::kFinished);
}
