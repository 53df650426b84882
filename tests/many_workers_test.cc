// An Executor joined by more threads than its worker table first holds
// (and than the old fixed limit of 256): every thread gets a slot, the
// slots beyond the first table are stolen from and run like the others
// (issue #9, item 3).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "weft.h"

namespace {

// More than the old limit (256) and than WorkerTable::kInitialCapacity, so
// the table grows several times while threads join.
constexpr int kThreads = 300;
// Tasks each root spawns once all threads are in.
constexpr int kChildren = 8;
// Liveness bound for a child that must be stolen from a blocked worker
// (the watchdog hands it over within about a millisecond).
constexpr auto kStealBound = std::chrono::seconds(60);

// A flag a blocked thread waits on, with a bound so a lost task fails the
// test instead of hanging it.
class Flag {
 public:
  void set() {
    {
      std::lock_guard<std::mutex> l(mu_);
      set_ = true;
    }
    cv_.notify_all();
  }
  bool wait_for(std::chrono::seconds bound) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, bound, [&] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

struct Shared {
  weft::Barrier all_in{kThreads};
  weft::Barrier all_done{kThreads};  // keeps every thread a worker (a thief) to the end
  std::atomic<int> saw_fewer_workers{0};  // roots that counted < kThreads
  std::atomic<int> children_ran{0};
  std::atomic<int> stuck{0};   // blocked roots whose child never ran
};

weft::Task<void> child(Shared* s) {
  // relaxed: the counters are read after every thread is joined.
  s->children_ran.fetch_add(1, std::memory_order_relaxed);
  co_return;
}

weft::Task<void> set_flag(Flag* f) {
  f->set();
  co_return;
}

weft::Task<void> root(weft::Executor* ex, Shared* s, int index) {
  // Between the two barriers every thread is inside run(): all have
  // arrived at the first, and none can leave before all reach the second.
  co_await s->all_in.arrive_and_wait();
  if (ex->num_workers() != kThreads) s->saw_fewer_workers.fetch_add(1, std::memory_order_relaxed);
  if (index % 2 == 0) {
    // Block this worker: the task it spawns can only run if another worker
    // steals it (from this slot, wherever it is in the table).
    Flag ran;
    auto h = ex->spawn(set_flag(&ran));
    if (!ran.wait_for(kStealBound)) s->stuck.fetch_add(1, std::memory_order_relaxed);
    co_await h;
  }
  std::vector<weft::JoinHandle<void>> hs;
  for (int i = 0; i < kChildren; ++i) hs.push_back(ex->spawn(child(s)));
  for (auto& h : hs) co_await h;
  co_await s->all_done.arrive_and_wait();
}

}  // namespace

TEST_CASE("an Executor runs with 300 threads inside run() at once", "[executor][workers]") {
  weft::Executor ex;
  Shared s;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&ex, &s, i] { ex.run(root(&ex, &s, i)); });
  }
  for (auto& t : threads) t.join();
  CHECK(s.saw_fewer_workers.load() == 0);
  CHECK(s.stuck.load() == 0);
  CHECK(s.children_ran.load() == kThreads * kChildren);
  CHECK(ex.num_workers() == 0);
}

TEST_CASE("threads leave and join again: slots are reused, the table keeps its size",
          "[executor][workers]") {
  weft::Executor ex;
  for (int round = 0; round < 2; ++round) {
    Shared s;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&ex, &s, i] { ex.run(root(&ex, &s, i)); });
    }
    for (auto& t : threads) t.join();
    CHECK(s.saw_fewer_workers.load() == 0);
    CHECK(s.stuck.load() == 0);
    CHECK(s.children_ran.load() == kThreads * kChildren);
  }
}
