// Issue #9: a wake of a root task (block_on's, or the main task of
// Executor::run / LocalExecutor::run) racing with the root's completion. The
// waker publishes `ready`, then unparks the owner's Parker; the owner may see
// `ready`, finish the root and return in between. It must not free the
// root's ready flag or the Parker (its stack frame, its executor) until that
// wake is done. Each iteration destroys everything right after run returns
// while the waking thread may still be inside the wake; ASan and TSan report
// the use after free if the owner does not wait for it.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>

#include "test_util.h"
#include "weft.h"

using weft_test::Gate;

namespace {
constexpr int kIterations = 2'000;

weft::Task<int> await_gate(Gate& g, int v) {
  co_await g;
  co_return v;  // right away: the owner returns while the wake may go on
}

// Opens `g` from a new thread as soon as a task waits on it (so the wake
// always goes through the root's schedule()).
std::thread open_when_waited(Gate& g) {
  return std::thread([&g] {
    while (g.waiting() == 0) std::this_thread::yield();
    g.open();
  });
}

// Runs a root that `g` wakes from another thread, on `ex`, with a second
// task that keeps yielding until the root is done, so the owner thread never
// parks: it sees the root's `ready` flag by polling, not through the Parker,
// and nothing but the root's own protocol orders the waker's unpark() before
// the owner's return (which the caller follows by destroying `ex`).
template <class Ex>
int run_root_woken_while_busy(Ex& ex, Gate& g) {
  bool done = false;  // this thread only: both tasks run on it
  auto spinner = ex.spawn([](bool* done) -> weft::Task<void> {
    while (!*done) co_await weft::yield_now();
  }(&done));
  return ex.run([](Gate& g, bool* done) -> weft::Task<int> {
    co_await g;
    *done = true;
    co_return 1;
  }(g, &done));
  // ~spinner cancels it; the executor's destruction destroys its frame.
}
}  // namespace

TEST_CASE("LocalExecutor destroyed right after its root was woken from another thread",
          "[root][lifetime][stress]") {
  int sum = 0;
  for (int i = 0; i < kIterations; ++i) {
    Gate g;  // outlives the waking thread
    std::thread waker;
    {
      auto ex = std::make_unique<weft::LocalExecutor>();
      waker = open_when_waited(g);
      sum += run_root_woken_while_busy(*ex, g);
    }  // the executor (and its Parker) is gone here
    waker.join();
  }
  CHECK(sum == kIterations);
}

TEST_CASE("Executor destroyed right after its root was woken from another thread",
          "[root][lifetime][stress]") {
  int sum = 0;
  for (int i = 0; i < kIterations; ++i) {
    Gate g;
    std::thread waker;
    {
      auto ex = std::make_unique<weft::Executor>();
      waker = open_when_waited(g);
      sum += run_root_woken_while_busy(*ex, g);
    }  // the executor (and the worker slot's Parker) is gone here
    waker.join();
  }
  CHECK(sum == kIterations);
}

TEST_CASE("block_on returns while its root's waker may still be unparking it",
          "[root][lifetime][stress]") {
  int sum = 0;
  for (int i = 0; i < kIterations; ++i) {
    Gate g;
    std::thread waker = open_when_waited(g);
    sum += weft::block_on(await_gate(g, 1));
    // The Parker and the root lived in block_on's frame, which the next call
    // reuses.
    waker.join();
  }
  CHECK(sum == kIterations);
}
