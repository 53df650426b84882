// WaitGroup: waiting for spawned jobs and foreign threads, several
// waiters, reuse, cancellation of a waiter.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::drain;

namespace {

weft::Task<void> wait_for(weft::WaitGroup& wg, int* woken) {
  co_await wg.wait();
  ++*woken;
}

weft::Task<void> job(weft::WaitGroup& wg, std::atomic<int>& ran) {
  co_await weft::yield_now();
  ran.fetch_add(1, std::memory_order_relaxed);
  wg.done();
}

}  // namespace

TEST_CASE("wait completes at once when the count is zero", "[wait_group]") {
  weft::WaitGroup wg;
  weft::block_on([](weft::WaitGroup& wg) -> weft::Task<void> { co_await wg.wait(); }(wg));
  CHECK(wg.count() == 0);
}

TEST_CASE("wait completes when the last job is done, waking every waiter", "[wait_group]") {
  weft::WaitGroup wg(2);
  weft::LocalExecutor ex;
  int woken = 0;
  auto a = ex.spawn(wait_for(wg, &woken));
  auto b = ex.spawn(wait_for(wg, &woken));
  drain(ex);
  wg.done();
  drain(ex);
  CHECK(woken == 0);
  wg.done();
  drain(ex);
  CHECK(woken == 2);
  wg.add(1);  // reusable
  auto c = ex.spawn(wait_for(wg, &woken));
  drain(ex);
  CHECK(woken == 2);
  wg.done();
  drain(ex);
  CHECK(woken == 3);
}

TEST_CASE("a cancelled waiter leaves the others unaffected", "[wait_group][cancel]") {
  weft::WaitGroup wg(1);
  weft::LocalExecutor ex;
  int woken = 0;
  { auto gone = ex.spawn(wait_for(wg, &woken)); drain(ex); }
  drain(ex);
  auto stays = ex.spawn(wait_for(wg, &woken));
  drain(ex);
  wg.done();
  drain(ex);
  CHECK(woken == 1);
}

TEST_CASE("jobs on an executor and foreign threads are waited for", "[wait_group][stress]") {
  constexpr int kJobs = 2'000;
  constexpr int kThreads = 4;
  weft::WaitGroup wg;
  std::atomic<int> ran{0};
  weft::Executor ex;
  wg.add(kJobs + kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      ran.fetch_add(1, std::memory_order_relaxed);
      wg.done();
    });
  }
  weft_test::run_on_two_workers(ex, [](weft::Executor& ex, weft::WaitGroup& wg,
                                       std::atomic<int>& ran) -> weft::Task<void> {
    for (int i = 0; i < kJobs; ++i) ex.spawn(job(wg, ran)).detach();
    co_await wg.wait();
    // Everything the jobs did before done() is visible here.
    CHECK(ran.load(std::memory_order_relaxed) == kJobs + kThreads);
  }(ex, wg, ran));
  for (auto& t : threads) t.join();
  CHECK(wg.count() == 0);
}
