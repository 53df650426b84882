// LocalExecutor: FIFO on one thread, wakes from other threads, run/try_tick.
#include <catch2/catch.hpp>

#include <mutex>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using weft_test::Gate;

namespace {
weft::Task<void> append(std::vector<int>* out, int v) {
  out->push_back(v);
  co_return;
}
weft::Task<void> append_twice(std::vector<int>* out, int v) {
  out->push_back(v);
  co_await weft::yield_now();
  out->push_back(v + 10);
}
}  // namespace

TEST_CASE("LocalExecutor runs tasks in FIFO order on its thread", "[local]") {
  weft::LocalExecutor ex;
  std::vector<int> out;
  auto a = ex.spawn(append_twice(&out, 1));
  auto b = ex.spawn(append_twice(&out, 2));
  auto c = ex.spawn(append(&out, 3));
  ex.run([&]() -> weft::Task<void> {
    co_await a;
    co_await b;
    co_await c;
  }());
  CHECK(out == std::vector<int>{1, 2, 3, 11, 12});
}

TEST_CASE("LocalExecutor wakes from another thread", "[local]") {
  weft::LocalExecutor ex;
  Gate gate;
  std::thread opener([&] {
    while (gate.waiting() == 0) std::this_thread::yield();
    gate.open();
  });
  int v = ex.run([&]() -> weft::Task<int> {
    co_await gate;
    co_return 4;
  }());
  opener.join();
  CHECK(v == 4);
}

TEST_CASE("LocalExecutor: spawned tasks woken remotely run", "[local]") {
  weft::LocalExecutor ex;
  Gate gates[8];
  std::vector<weft::JoinHandle<void>> hs;
  std::atomic<int> ran{0};
  for (auto& g : gates) {
    hs.push_back(ex.spawn([](Gate& g, std::atomic<int>* ran) -> weft::Task<void> {
      co_await g;
      ran->fetch_add(1);
    }(g, &ran)));
  }
  std::thread opener([&] {
    for (auto& g : gates) {
      while (g.waiting() == 0) std::this_thread::yield();
      g.open();
    }
  });
  ex.run([&]() -> weft::Task<void> {
    for (auto& h : hs) co_await h;
  }());
  opener.join();
  CHECK(ran == 8);
}
