// Executor: spawning from inside and outside, work stealing, the LIFO slot,
// try_tick, foreign threads as workers, the global executor.
#include <catch2/catch.hpp>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using weft_test::Gate;

namespace {

weft::Task<void> record(std::vector<char>* order, std::mutex* mu, char name) {
  std::lock_guard<std::mutex> l(*mu);
  order->push_back(name);
  co_return;
}

struct ThreadSet {
  std::mutex mu;
  std::set<std::thread::id> ids;
  size_t add() {
    std::lock_guard<std::mutex> l(mu);
    ids.insert(std::this_thread::get_id());
    return ids.size();
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return ids.size();
  }
};

// Finishes only once two different threads have run tasks like it: if the
// second worker never gets work (no stealing), the test hangs and fails.
weft::Task<int> until_two_threads(ThreadSet* seen) {
  while (seen->add() < 2) co_await weft::yield_now();
  co_return 1;
}

}  // namespace

TEST_CASE("tasks spawned on one worker are stolen by another", "[executor]") {
  weft::Executor ex;
  ThreadSet seen;
  Gate stop;
  std::thread second([&] {
    ex.run([](Gate& g) -> weft::Task<void> { co_await g; }(stop));
  });
  int done = ex.run([&]() -> weft::Task<int> {
    std::vector<weft::JoinHandle<int>> hs;
    for (int i = 0; i < 64; ++i) hs.push_back(ex.spawn(until_two_threads(&seen)));
    int n = 0;
    for (auto& h : hs) n += co_await h;
    co_return n;
  }());
  stop.open();
  second.join();
  CHECK(done == 64);
  CHECK(seen.size() == 2);
  CHECK(ex.num_workers() == 0);
}

TEST_CASE("the LIFO slot runs the newest task first; switched off, order is FIFO",
          "[executor][lifo]") {
  for (bool lifo : {true, false}) {
    weft::Executor ex(weft::ExecutorOptions{.lifo_slot = lifo});
    std::vector<char> order;
    std::mutex mu;
    ex.run([&]() -> weft::Task<void> {
      auto a = ex.spawn(record(&order, &mu, 'a'));
      auto b = ex.spawn(record(&order, &mu, 'b'));
      auto c = ex.spawn(record(&order, &mu, 'c'));
      co_await a;
      co_await b;
      co_await c;
    }());
    std::string got(order.begin(), order.end());
    INFO("lifo_slot=" << lifo);
    CHECK(got == (lifo ? "cab" : "abc"));
  }
}

TEST_CASE("try_tick runs queued tasks on a thread that is not a worker", "[executor]") {
  weft::Executor ex;
  std::vector<char> order;
  std::mutex mu;
  CHECK_FALSE(ex.try_tick());
  auto a = ex.spawn(record(&order, &mu, 'a'));
  auto b = ex.spawn(record(&order, &mu, 'b'));
  CHECK(ex.try_tick());
  CHECK(ex.try_tick());
  CHECK_FALSE(ex.try_tick());
  CHECK(std::string(order.begin(), order.end()) == "ab");
  CHECK(a.is_finished());
  CHECK(b.is_finished());
}

TEST_CASE("spawns from a non-worker thread reach running workers", "[executor]") {
  weft::Executor ex;
  Gate all_spawned;
  std::atomic<int> ran{0};
  std::vector<weft::JoinHandle<void>> hs;
  std::thread outsider([&] {
    for (int i = 0; i < 1000; ++i) {
      hs.push_back(ex.spawn([](std::atomic<int>* r) -> weft::Task<void> {
        r->fetch_add(1);
        co_return;
      }(&ran)));
    }
    all_spawned.open();
  });
  ex.run([&]() -> weft::Task<void> {
    co_await all_spawned;
    for (auto& h : hs) co_await h;
  }());
  outsider.join();
  CHECK(ran == 1000);
}

TEST_CASE("run() returns the main task's value or exception", "[executor]") {
  weft::Executor ex;
  CHECK(ex.run([]() -> weft::Task<int> { co_return 3; }()) == 3);
  CHECK_THROWS_AS(ex.run([]() -> weft::Task<int> {
                    throw std::out_of_range("x");
                    co_return 0;
                  }()),
                  std::out_of_range);
}

TEST_CASE("weft::spawn runs on the global executor's threads", "[executor][global]") {
  auto h = weft::spawn([]() -> weft::Task<std::thread::id> {
    co_return std::this_thread::get_id();
  }());
  auto id = weft::block_on([&]() -> weft::Task<std::thread::id> { co_return co_await h; }());
  CHECK(id != std::this_thread::get_id());
  CHECK(weft::global_executor().num_workers() >= 1);
}
