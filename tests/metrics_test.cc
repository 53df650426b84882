// Executor::metrics(): each counter moves when it should, and only then.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using weft_test::Gate;

namespace {

weft::Task<void> nothing() { co_return; }

uint64_t sum(const weft::ExecutorMetrics& m, uint64_t weft::WorkerMetrics::*field) {
  uint64_t n = 0;
  for (const auto& w : m.workers) n += w.*field;
  return n;
}

}  // namespace

TEST_CASE("metrics: spawns from outside queue in the injector, then run", "[metrics]") {
  weft::Executor ex;
  auto m0 = ex.metrics();
  CHECK(m0.workers.empty());
  CHECK(m0.spawned == 0);
  CHECK(m0.live_tasks == 0);
  std::vector<weft::JoinHandle<void>> hs;
  for (int i = 0; i < 100; ++i) hs.push_back(ex.spawn(nothing()));
  auto m1 = ex.metrics();
  CHECK(m1.spawned == 100);
  CHECK(m1.live_tasks == 100);
  CHECK(m1.injector_depth == 100);
  CHECK(m1.threads == 0);
  // run() returns when its main task does: await them all there.
  ex.run([&]() -> weft::Task<void> {
    for (auto& h : hs) co_await h;
  }());
  auto m2 = ex.metrics();
  CHECK(m2.live_tasks == 0);
  CHECK(m2.injector_depth == 0);
  REQUIRE(m2.workers.size() == 1);
  CHECK(m2.workers[0].polls == 100);
  CHECK_FALSE(m2.workers[0].active);
  CHECK(m2.workers[0].queue_depth == 0);
}

TEST_CASE("metrics: LIFO polls count only with the LIFO slot on", "[metrics][lifo]") {
  for (bool lifo : {true, false}) {
    weft::Executor ex(weft::ExecutorOptions{.lifo_slot = lifo});
    ex.run([&]() -> weft::Task<void> {
      for (int i = 0; i < 10; ++i) co_await ex.spawn(nothing());
    }());
    auto m = ex.metrics();
    INFO("lifo_slot=" << lifo);
    CHECK(sum(m, &weft::WorkerMetrics::polls) == 10);
    if (lifo) {
      // Each spawn lands in the LIFO slot; every few in a row go through
      // the queue instead (kMaxLifoPolls), so the others get a turn.
      CHECK(sum(m, &weft::WorkerMetrics::lifo_polls) >= 5);
      CHECK(sum(m, &weft::WorkerMetrics::lifo_polls) < 10);
    } else {
      CHECK(sum(m, &weft::WorkerMetrics::lifo_polls) == 0);
    }
  }
}

TEST_CASE("metrics: a full local queue overflows to the injector", "[metrics]") {
  weft::Executor ex(weft::ExecutorOptions{.lifo_slot = false});
  uint64_t overflowed_then = 0;
  ex.run([&]() -> weft::Task<void> {
    std::vector<weft::JoinHandle<void>> hs;
    for (int i = 0; i < 1000; ++i) hs.push_back(ex.spawn(nothing()));
    // Nothing has run yet: every task is in the local queue or was moved
    // from it to the injector, and the overflow count says how many.
    auto m = ex.metrics();
    const weft::WorkerMetrics& w = m.workers.at(0);
    CHECK(w.active);
    CHECK(m.threads == 1);
    CHECK(m.live_tasks == 1000);
    CHECK(w.overflowed > 0);
    CHECK(w.overflowed == m.injector_depth);
    CHECK(m.injector_depth + w.queue_depth == 1000);
    overflowed_then = w.overflowed;
    for (auto& h : hs) co_await h;
  }());
  auto m = ex.metrics();
  CHECK(m.workers.at(0).overflowed >= overflowed_then);
  CHECK(m.workers.at(0).polls == 1000);
  CHECK(m.live_tasks == 0);
}

TEST_CASE("metrics: a worker with nothing to do parks, and is seen asleep", "[metrics]") {
  weft::Executor ex;
  Gate gate;
  std::thread opener([&] {
    // Wait until the worker sleeps for lack of work (a stall would hang
    // here, which the test's timeout reports).
    while (ex.metrics().sleeping == 0) std::this_thread::yield();
    auto m = ex.metrics();
    CHECK(m.workers.at(0).parks >= 1);
    gate.open();
  });
  ex.run([&]() -> weft::Task<void> { co_await gate; }());
  opener.join();
  auto m = ex.metrics();
  CHECK(m.workers.at(0).parks >= 1);
  CHECK(m.sleeping == 0);
}

TEST_CASE("metrics: an idle worker steals from a busy one", "[metrics][steal]") {
  weft::Executor ex;
  Gate stop;
  std::thread second([&] {
    ex.run([](Gate& g) -> weft::Task<void> { co_await g; }(stop));
  });
  constexpr int kTasks = 64;
  std::atomic<int> ran{0};
  ex.run([&]() -> weft::Task<void> {
    for (int i = 0; i < kTasks; ++i) {
      ex.spawn([](std::atomic<int>* r) -> weft::Task<void> {
          r->fetch_add(1);
          co_return;
        }(&ran)).detach();
    }
    // Keep this worker busy without awaiting: the others can only run on
    // the second worker, which must steal them (the last one from the LIFO
    // slot, once the watchdog marks this worker stalled).
    while (ran.load() < kTasks) std::this_thread::yield();
    co_return;
  }());
  stop.open();
  second.join();
  auto m = ex.metrics();
  REQUIRE(m.workers.size() == 2);
  // The newest task sat in the LIFO slot: only a steal could take it.
  CHECK(sum(m, &weft::WorkerMetrics::steal_operations) >= 1);
  // Each of the others reached the idle worker by a steal, or through the
  // injector after overflowing the busy worker's queue (which is 4 slots in
  // the sanitizer builds).
  CHECK(sum(m, &weft::WorkerMetrics::stolen) + sum(m, &weft::WorkerMetrics::overflowed) >=
        kTasks);
  CHECK(sum(m, &weft::WorkerMetrics::polls) == kTasks + 0u);
}

TEST_CASE("metrics: busy time covers a computing task; counters never go back",
          "[metrics]") {
  weft::Executor ex;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    weft::ExecutorMetrics prev = ex.metrics();
    while (!done.load()) {
      weft::ExecutorMetrics m = ex.metrics();
      CHECK(m.spawned >= prev.spawned);
      for (size_t i = 0; i < prev.workers.size() && i < m.workers.size(); ++i) {
        CHECK(m.workers[i].polls >= prev.workers[i].polls);
        CHECK(m.workers[i].parks >= prev.workers[i].parks);
      }
      prev = std::move(m);
      std::this_thread::yield();
    }
  });
  const auto start = std::chrono::steady_clock::now();
  ex.run([&]() -> weft::Task<void> {
    for (int i = 0; i < 20; ++i) {
      co_await ex.spawn(nothing());
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
      while (std::chrono::steady_clock::now() < until) {
      }
    }
  }());
  const auto computed = std::chrono::steady_clock::now() - start;
  done = true;
  reader.join();
  auto m = ex.metrics();
  // The worker was inside run() computing the whole time (20 ms at least):
  // busy is that time minus any parks, and this task never waited long.
  CHECK(m.workers.at(0).busy >= std::chrono::milliseconds(20));
  CHECK(m.workers.at(0).busy <= computed);
}

TEST_CASE("metrics: LocalExecutor counts its runs, remote queue and parks", "[metrics][local]") {
  weft::LocalExecutor ex;
  std::vector<weft::JoinHandle<void>> hs;
  for (int i = 0; i < 10; ++i) hs.push_back(ex.spawn(nothing()));
  for (int i = 0; i < 5; ++i) hs.push_back(ex.spawn_remote(nothing()));
  auto m0 = ex.metrics();
  CHECK(m0.spawned == 15);
  CHECK(m0.live_tasks == 15);
  CHECK(m0.injector_depth == 5);
  CHECK(m0.workers.at(0).queue_depth == 10);
  CHECK_FALSE(m0.workers.at(0).active);
  Gate gate;
  std::thread opener([&] {
    while (ex.metrics().sleeping == 0) std::this_thread::yield();
    CHECK(ex.metrics().workers.at(0).active);
    gate.open();
  });
  ex.run([&]() -> weft::Task<void> {
    for (auto& h : hs) co_await h;
    co_await gate;
  }());
  opener.join();
  auto m = ex.metrics();
  CHECK(m.workers.at(0).polls == 15);
  CHECK(m.workers.at(0).parks >= 1);
  CHECK(m.workers.at(0).queue_depth == 0);
  CHECK(m.live_tasks == 0);
  CHECK(m.injector_depth == 0);
}

TEST_CASE("metrics: a LocalPool reports each worker", "[metrics][local_pool]") {
  weft::LocalPool pool({.threads = 2});
  for (size_t i = 0; i < 2; ++i) {
    for (size_t k = 0; k <= i; ++k) {
      auto h = pool.spawn_pinned_on(i, [] { return nothing(); });
      weft::block_on([&]() -> weft::Task<void> { co_await h; }());
    }
  }
  auto ms = pool.metrics();
  REQUIRE(ms.size() == 2);
  CHECK(ms[0].workers.at(0).polls == 1);
  CHECK(ms[1].workers.at(0).polls == 2);
  CHECK(ms[0].workers.at(0).active);
  CHECK(ms[1].spawned == 2);
}
