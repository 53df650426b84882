// BlockingPool: growth on demand, shrinking when idle, the limit, thread
// creation failures, thread names, FIFO order. Every wait is on a condition
// (the pool's counters or a flag), never a sleep standing in for a signal.
#include <catch2/catch.hpp>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <latch>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "weft.h"

namespace {

using namespace std::chrono_literals;
using Stats = weft::BlockingPool::Stats;

// A flag that blocking jobs wait on.
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

// Generous bound for conditions that should hold within milliseconds; the
// test still fails (instead of hanging) when they never do.
constexpr auto kPatience = 20s;

}  // namespace

TEST_CASE("a pool that is never used starts no thread", "[pool]") {
  weft::BlockingPool pool;
  Stats s = pool.stats();
  CHECK(s.threads_alive == 0);
  CHECK(s.threads_started == 0);
  CHECK(s.max_threads == 500);
}

TEST_CASE("the pool grows while jobs block, and shrinks when idle", "[pool]") {
  constexpr int kJobs = 16;
  weft::BlockingPool pool({.max_threads = 64, .idle_timeout = 50ms});
  // Every job waits until all of them run: this completes only if the pool
  // grows to kJobs threads.
  std::latch all_running(kJobs);
  std::vector<weft::BlockingJob<void>> jobs;
  for (int i = 0; i < kJobs; ++i) jobs.push_back(pool.spawn([&] { all_running.arrive_and_wait(); }));
  for (auto& j : jobs) j.wait();
  // A job's waiter wakes before its thread counts it as run.
  REQUIRE(pool.wait_until([](const Stats& s) { return s.jobs_run == kJobs; }, kPatience));

  Stats grown = pool.stats();
  CHECK(grown.threads_peak == kJobs);
  CHECK(grown.threads_started == kJobs);
  CHECK(grown.jobs_run == kJobs);

  // Idle threads exit after the (short) idle timeout.
  REQUIRE(pool.wait_until([](const Stats& s) { return s.threads_alive == 0; }, kPatience));
  CHECK(pool.stats().threads_idle == 0);

  // And come back on demand.
  CHECK(pool.spawn([] { return 1; }).wait() == 1);
  CHECK(pool.stats().threads_started == kJobs + 1);
}

TEST_CASE("past the eager threads, blocked jobs still get new threads", "[pool]") {
  // One eager thread; the first job blocks until the second has run, so
  // only the monitor (which sees no job start while one waits) can unblock
  // it by starting a second thread.
  weft::BlockingPool pool({.eager_threads = 1});
  Flag second_ran;
  auto first = pool.spawn([&] {
    second_ran.wait();
    return 1;
  });
  auto second = pool.spawn([&] {
    second_ran.raise();
    return 2;
  });
  CHECK(first.wait() + second.wait() == 3);
  CHECK(pool.stats().threads_started == 2);
}

TEST_CASE("idle threads are reused instead of starting new ones", "[pool]") {
  weft::BlockingPool pool({.idle_timeout = 60s});
  for (int i = 0; i < 100; ++i) CHECK(pool.spawn([i] { return i; }).wait() == i);
  // Sequential jobs: one thread serves them all. The thread counts itself
  // free before it publishes a result, so the next job, submitted as soon as
  // the previous result is seen, never finds the pool busy.
  CHECK(pool.stats().threads_started == 1);
}

TEST_CASE("the limit holds", "[pool]") {
  constexpr size_t kLimit = 4;
  constexpr int kJobs = 64;
  weft::BlockingPool pool({.max_threads = kLimit});
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  Flag release;
  std::vector<weft::BlockingJob<void>> jobs;
  for (int i = 0; i < kJobs; ++i) {
    jobs.push_back(pool.spawn([&] {
      int now = running.fetch_add(1) + 1;
      running.notify_all();
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      release.wait();
      running.fetch_sub(1);
    }));
  }
  // The first kLimit jobs block; the rest must queue.
  REQUIRE(pool.wait_until(
      [](const Stats& s) { return s.threads_alive == kLimit && s.threads_idle == 0; }, kPatience));
  for (int n = running.load(); n < static_cast<int>(kLimit); n = running.load()) running.wait(n);
  Stats s = pool.stats();
  CHECK(s.jobs_queued == kJobs - kLimit);
  CHECK(s.threads_started == kLimit);
  release.raise();
  for (auto& j : jobs) j.wait();
  CHECK(most.load() == static_cast<int>(kLimit));
  CHECK(pool.stats().threads_peak == kLimit);
}

TEST_CASE("lowering the limit at run time sends idle threads away", "[pool]") {
  weft::BlockingPool pool({.max_threads = 8, .idle_timeout = 60s});
  std::latch all(8);
  std::vector<weft::BlockingJob<void>> jobs;
  for (int i = 0; i < 8; ++i) jobs.push_back(pool.spawn([&] { all.arrive_and_wait(); }));
  for (auto& j : jobs) j.wait();
  CHECK(pool.stats().threads_alive == 8);
  pool.set_max_threads(2);
  REQUIRE(pool.wait_until([](const Stats& s) { return s.threads_alive == 2; }, kPatience));
  CHECK(pool.stats().max_threads == 2);
}

TEST_CASE("a shorter idle timeout reaches threads already waiting", "[pool]") {
  weft::BlockingPool pool({.idle_timeout = 3600s});
  CHECK(pool.spawn([] { return 1; }).wait() == 1);
  REQUIRE(pool.wait_until([](const Stats& s) { return s.threads_idle == 1; }, kPatience));
  pool.set_idle_timeout(1ms);
  REQUIRE(pool.wait_until([](const Stats& s) { return s.threads_alive == 0; }, kPatience));
}

TEST_CASE("idle_timeout milliseconds::max() means never, not at once (issue #14)", "[pool]") {
  // idle_since + max() overflowed into the past: idle threads exited at once.
  weft::BlockingPool pool({.idle_timeout = std::chrono::milliseconds::max()});
  CHECK(pool.spawn([] { return 1; }).wait() == 1);
  // wait_until's own timeout saturates too.
  REQUIRE(pool.wait_until([](const Stats& s) { return s.threads_idle == 1; },
                          std::chrono::milliseconds::max()));
  CHECK_FALSE(pool.wait_until([](const Stats& s) { return s.threads_alive == 0; }, 200ms));
  CHECK(pool.stats().threads_alive == 1);
  pool.set_idle_timeout(1ms);  // still reaches the waiting thread
  REQUIRE(pool.wait_until([](const Stats& s) { return s.threads_alive == 0; }, kPatience));
}

namespace {
// Fails every thread creation after the first `t_allowed`.
std::atomic<int> g_allowed{0};
std::atomic<int> g_refused{0};
int flaky_create(pthread_t* t, const pthread_attr_t* a, void* (*f)(void*), void* arg) {
  if (g_allowed.fetch_sub(1) <= 0) {
    g_refused.fetch_add(1);
    return EAGAIN;
  }
  return pthread_create(t, a, f, arg);
}
}  // namespace

TEST_CASE("a failed thread creation lowers the limit and keeps serving", "[pool]") {
  g_allowed = 2;
  g_refused = 0;
  weft::BlockingPool pool({.max_threads = 16, .create_thread = &flaky_create});
  std::latch two(2);
  Flag release;
  std::atomic<int> done{0};
  std::vector<weft::BlockingJob<void>> jobs;
  for (int i = 0; i < 10; ++i) {
    jobs.push_back(pool.spawn([&, i] {
      if (i < 2) {
        two.arrive_and_wait();
        release.wait();
      }
      done.fetch_add(1);
    }));
  }
  two.wait();  // both threads that could start are busy
  CHECK(g_refused.load() >= 1);
  Stats s = pool.stats();
  CHECK(s.max_threads == 2);  // lowered to what the OS gave us
  CHECK(s.threads_alive == 2);
  release.raise();
  for (auto& j : jobs) j.wait();
  CHECK(done.load() == 10);
}

TEST_CASE("with no thread at all, a job runs on the submitting thread", "[pool]") {
  g_allowed = 0;
  g_refused = 0;
  weft::BlockingPool pool({.create_thread = &flaky_create});
  pthread_t self = pthread_self();
  bool same_thread = false;
  auto job = pool.spawn([&] { same_thread = pthread_equal(self, pthread_self()); });
  CHECK(job.is_ready());  // it already ran, inline
  job.wait();
  CHECK(same_thread);
  CHECK(pool.stats().max_threads == 1);
}

TEST_CASE("threads are named weft-blocking-N", "[pool]") {
  constexpr int kThreads = 12;  // past 10, where the name must be shortened
  weft::BlockingPool pool;
  std::latch all(kThreads);
  std::mutex mu;
  std::set<std::string> names;
  std::vector<weft::BlockingJob<void>> jobs;
  for (int i = 0; i < kThreads; ++i) {
    jobs.push_back(pool.spawn([&] {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      {
        std::lock_guard<std::mutex> l(mu);
        names.insert(name);
      }
      all.arrive_and_wait();  // keep every thread busy so each job gets its own
    }));
  }
  for (auto& j : jobs) j.wait();
  CHECK(names.size() == kThreads);
  CHECK(names.count("weft-blocking-0") == 1);
  CHECK(names.count("weft-blocking-9") == 1);
  CHECK(names.count("weft-blocking10") == 1);
  CHECK(names.count("weft-blocking11") == 1);
}

TEST_CASE("jobs start in FIFO order", "[pool]") {
  weft::BlockingPool pool({.max_threads = 1});
  Flag release;
  auto blocker = pool.spawn([&] { release.wait(); });
  std::vector<int> order;  // only the single pool thread writes it
  std::vector<weft::BlockingJob<void>> jobs;
  for (int i = 0; i < 100; ++i) jobs.push_back(pool.spawn([&order, i] { order.push_back(i); }));
  release.raise();
  for (auto& j : jobs) j.wait();
  REQUIRE(order.size() == 100);
  CHECK(std::is_sorted(order.begin(), order.end()));
}

TEST_CASE("destroying a pool waits for its queued jobs", "[pool]") {
  std::atomic<int> ran{0};
  {
    weft::BlockingPool pool({.max_threads = 2});
    for (int i = 0; i < 50; ++i) pool.spawn([&] { ran.fetch_add(1); }).detach();
  }
  CHECK(ran.load() == 50);
}

TEST_CASE("the global pool reads WEFT_BLOCKING_MAX_THREADS", "[pool]") {
  // tests/BUILD.bazel sets WEFT_BLOCKING_MAX_THREADS=7 for this test.
  CHECK(weft::BlockingPool::global().stats().max_threads == 7);
}

TEST_CASE("a job writing to a closed pipe gets EPIPE, not SIGPIPE", "[pool]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  weft::BlockingPool pool;
  int err = pool.spawn([fd = fds[1]] {
    char c = 'x';
    return ::write(fd, &c, 1) < 0 ? errno : 0;
  }).wait();
  ::close(fds[1]);
  CHECK(err == EPIPE);
}
