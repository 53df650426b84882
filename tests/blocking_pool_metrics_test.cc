// BlockingPool::metrics(): threads started and retired, jobs submitted and
// completed, the queue and how long its first job has waited; totals never
// go back while jobs run and threads exit. Waits are on the pool's own
// counters (wait_until) or on flags, never on sleeps.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "weft.h"

namespace {

using namespace std::chrono_literals;
using weft::BlockingPoolMetrics;

struct Flag {
  std::atomic<bool> set{false};
  void raise() {
    set.store(true, std::memory_order_release);  // pairs with wait()'s acquire
    set.notify_all();
  }
  void wait() {
    while (!set.load(std::memory_order_acquire)) set.wait(false, std::memory_order_acquire);
  }
};

constexpr auto kPatience = 20s;  // only a stall exceeds it

}  // namespace

TEST_CASE("blocking pool metrics: an unused pool is all zeros", "[pool_metrics]") {
  weft::BlockingPool pool;
  const BlockingPoolMetrics m = pool.metrics();
  CHECK(m.threads_live == 0);
  CHECK(m.threads_started == 0);
  CHECK(m.threads_exited == 0);
  CHECK(m.jobs_submitted == 0);
  CHECK(m.jobs_completed == 0);
  CHECK(m.queue_depth == 0);
  CHECK(m.oldest_queued_wait == std::chrono::nanoseconds(0));
}

TEST_CASE("blocking pool metrics: jobs counted, threads start and retire", "[pool_metrics]") {
  weft::BlockingPool pool({.max_threads = 4, .idle_timeout = std::chrono::milliseconds::max()});
  constexpr int kJobs = 100;
  std::vector<weft::BlockingJob<int>> jobs;
  for (int i = 0; i < kJobs; ++i) jobs.push_back(pool.spawn([i] { return i; }));
  for (int i = 0; i < kJobs; ++i) CHECK(jobs[i].wait() == i);
  REQUIRE(pool.wait_until([](const auto& s) { return s.jobs_run == kJobs && s.threads_idle == s.threads_alive; },
                          kPatience));
  const BlockingPoolMetrics m1 = pool.metrics();
  CHECK(m1.jobs_submitted == kJobs);
  CHECK(m1.jobs_completed == kJobs);
  CHECK(m1.queue_depth == 0);
  CHECK(m1.threads_started >= 1);
  CHECK(m1.threads_started <= 4);
  CHECK(m1.threads_live == m1.threads_started);
  CHECK(m1.threads_idle == m1.threads_live);
  CHECK(m1.threads_exited == 0);

  // Idle threads retire: every one that started has exited.
  pool.set_idle_timeout(1ms);
  REQUIRE(pool.wait_until([](const auto& s) { return s.threads_alive == 0; }, kPatience));
  const BlockingPoolMetrics m2 = pool.metrics();
  CHECK(m2.threads_live == 0);
  CHECK(m2.threads_idle == 0);
  CHECK(m2.threads_exited == m2.threads_started);
  CHECK(m2.threads_started == m1.threads_started);
  CHECK(m2.jobs_completed == kJobs);
}

TEST_CASE("blocking pool metrics: the queue behind a busy pool, and its first job's wait",
          "[pool_metrics]") {
  weft::BlockingPool pool({.max_threads = 1});
  Flag release;
  auto blocker = pool.spawn([&] { release.wait(); });
  REQUIRE(pool.wait_until([](const auto& s) { return s.jobs_queued == 0 && s.threads_idle == 0; },
                          kPatience));
  auto second = pool.spawn([] { return 2; });
  auto third = pool.spawn([] { return 3; });
  const BlockingPoolMetrics m1 = pool.metrics();
  CHECK(m1.queue_depth == 2);
  CHECK(m1.jobs_submitted == 3);
  CHECK(m1.jobs_completed == 0);
  CHECK(m1.threads_live == 1);
  CHECK(m1.threads_idle == 0);
  CHECK(m1.oldest_queued_wait > std::chrono::nanoseconds(0));
  // The first job's wait grows while it waits (a liveness loop: the clock
  // moves).
  BlockingPoolMetrics m2 = pool.metrics();
  while (m2.oldest_queued_wait <= m1.oldest_queued_wait) {
    std::this_thread::yield();
    m2 = pool.metrics();
  }
  CHECK(m2.queue_depth == 2);

  release.raise();
  blocker.wait();
  second.wait();
  third.wait();
  REQUIRE(pool.wait_until([](const auto& s) { return s.jobs_run == 3; }, kPatience));
  const BlockingPoolMetrics m3 = pool.metrics();
  CHECK(m3.queue_depth == 0);
  CHECK(m3.oldest_queued_wait == std::chrono::nanoseconds(0));
  CHECK(m3.jobs_completed == 3);
}

TEST_CASE("blocking pool metrics: the global pool has them too", "[pool_metrics]") {
  const BlockingPoolMetrics m0 = weft::BlockingPool::global().metrics();
  CHECK(weft::block_on([]() -> weft::Task<int> { co_return co_await weft::unblock([] { return 7; }); }()) == 7);
  const BlockingPoolMetrics m1 = weft::BlockingPool::global().metrics();
  CHECK(m1.jobs_submitted == m0.jobs_submitted + 1);
  CHECK(m1.threads_started >= 1);
}

TEST_CASE("blocking pool metrics: totals never go back while jobs run and threads exit",
          "[pool_metrics][concurrent]") {
  weft::BlockingPool pool({.max_threads = 8, .idle_timeout = 1ms});
  std::atomic<bool> stop{false};
  std::atomic<int> went_back{0};
  std::atomic<int> inconsistent{0};
  std::thread reader([&] {
    BlockingPoolMetrics prev = pool.metrics();
    // acquire: pairs with the release store below (nothing else rides on it).
    while (!stop.load(std::memory_order_acquire)) {
      const BlockingPoolMetrics m = pool.metrics();
      const bool ok = m.threads_started >= prev.threads_started &&
                      m.threads_exited >= prev.threads_exited &&
                      m.jobs_submitted >= prev.jobs_submitted &&
                      m.jobs_completed >= prev.jobs_completed;
      // relaxed (both): read after join().
      if (!ok) went_back.fetch_add(1, std::memory_order_relaxed);
      if (m.threads_live != m.threads_started - m.threads_exited ||
          m.jobs_submitted < m.jobs_completed + m.queue_depth) {
        inconsistent.fetch_add(1, std::memory_order_relaxed);
      }
      prev = m;
    }
  });
  uint64_t submitted = 0;
  for (int round = 0; round < 20; ++round) {
    std::vector<weft::BlockingJob<void>> jobs;
    for (int i = 0; i < 50; ++i) {
      jobs.push_back(pool.spawn([] { std::this_thread::yield(); }));
      ++submitted;
    }
    for (auto& j : jobs) j.wait();
    // Let the threads retire (1 ms idle) now and then, so exits happen
    // while the reader reads.
    if (round % 5 == 4) {
      REQUIRE(pool.wait_until([](const auto& s) { return s.threads_alive == 0; }, kPatience));
    }
  }
  // release: pairs with the reader's acquire load.
  stop.store(true, std::memory_order_release);
  reader.join();
  CHECK(went_back.load(std::memory_order_relaxed) == 0);
  CHECK(inconsistent.load(std::memory_order_relaxed) == 0);
  const BlockingPoolMetrics m = pool.metrics();
  CHECK(m.jobs_submitted == submitted);
  CHECK(m.threads_exited >= 4);
}
