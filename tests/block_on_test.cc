// block_on: results, exceptions, parking while waiting for another thread.
#include <catch2/catch.hpp>

#include <thread>

#include "test_util.h"
#include "weft.h"

using weft_test::Gate;

TEST_CASE("block_on returns the value and rethrows the exception", "[block_on]") {
  CHECK(weft::block_on([]() -> weft::Task<int> { co_return 11; }()) == 11);
  CHECK_THROWS_WITH(weft::block_on([]() -> weft::Task<void> {
                      throw std::runtime_error("inside");
                      co_return;
                    }()),
                    "inside");
}

TEST_CASE("block_on parks until another thread wakes the task", "[block_on]") {
  Gate gate;
  std::thread opener([&] {
    while (gate.waiting() == 0) std::this_thread::yield();
    gate.open();
  });
  int v = weft::block_on([&]() -> weft::Task<int> {
    co_await gate;
    co_return 12;
  }());
  opener.join();
  CHECK(v == 12);
}

TEST_CASE("block_on handles a task that yields", "[block_on]") {
  int n = weft::block_on([]() -> weft::Task<int> {
    int i = 0;
    for (; i < 1000; ++i) co_await weft::yield_now();
    co_return i;
  }());
  CHECK(n == 1000);
}

TEST_CASE("block_on inside a task of an executor does not capture its wakes",
          "[block_on]") {
  weft::Executor ex;
  int v = ex.run([&]() -> weft::Task<int> {
    auto h = ex.spawn([]() -> weft::Task<int> { co_return 2; }());
    // A nested block_on (bad practice, but it must not deadlock): the inner
    // task is independent of the executor.
    int inner = weft::block_on([]() -> weft::Task<int> { co_return 3; }());
    co_return inner + co_await h;
  }());
  CHECK(v == 5);
}
