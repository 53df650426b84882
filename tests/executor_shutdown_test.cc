// Destroying an executor destroys every task it still holds, exactly once.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using weft_test::Counted;
using weft_test::Gate;

namespace {
weft::Task<int> wait_on(Gate& g, std::atomic<int>* live, std::atomic<int>* destroyed) {
  Counted c(live, destroyed);
  co_await g;
  co_return 1;
}
}  // namespace

TEST_CASE("destroying an Executor destroys suspended and queued tasks once", "[shutdown]") {
  std::atomic<int> live{0}, destroyed{0};
  Gate gate;
  std::vector<weft::JoinHandle<int>> handles;
  {
    weft::Executor ex;
    for (int i = 0; i < 100; ++i) handles.push_back(ex.spawn(wait_on(gate, &live, &destroyed)));
    // Run until all 100 are suspended on the gate.
    ex.run([&]() -> weft::Task<void> {
      while (gate.waiting() < 100) co_await weft::yield_now();
    }());
    CHECK(live == 100);
    // And 50 more that never ran (queued at destruction).
    for (int i = 0; i < 50; ++i) handles.push_back(ex.spawn(wait_on(gate, &live, &destroyed)));
  }
  CHECK(live == 0);
  CHECK(destroyed == 100);  // the 50 queued ones never constructed Counted
  gate.open();              // stale wakers: no-ops
  // Awaiting a handle afterwards reports cancellation.
  weft::LocalExecutor other;
  int cancelled = other.run([&]() -> weft::Task<int> {
    int n = 0;
    for (auto& h : handles) {
      try {
        co_await h;
      } catch (const weft::TaskCancelled&) {
        ++n;
      }
    }
    co_return n;
  }());
  CHECK(cancelled == 150);
}

TEST_CASE("destroying a LocalExecutor destroys its tasks once", "[shutdown]") {
  std::atomic<int> live{0}, destroyed{0};
  Gate gate;
  {
    weft::LocalExecutor ex;
    for (int i = 0; i < 10; ++i) ex.spawn(wait_on(gate, &live, &destroyed)).detach();
    while (ex.try_tick()) {
    }
    CHECK(live == 10);
  }
  CHECK(live == 0);
  CHECK(destroyed == 10);
}

TEST_CASE("a wake racing with executor destruction is safe", "[shutdown][stress]") {
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> live{0}, destroyed{0};
    Gate gate;
    auto ex = std::make_unique<weft::Executor>();
    for (int i = 0; i < 8; ++i) ex->spawn(wait_on(gate, &live, &destroyed)).detach();
    ex->run([&]() -> weft::Task<void> {
      while (gate.waiting() < 8) co_await weft::yield_now();
    }());
    std::thread waker([&] { gate.open(); });
    ex.reset();  // races with the wakes
    waker.join();
    CHECK(live == 0);
    CHECK(destroyed == 8);
  }
}
