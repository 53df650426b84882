// unblock(f): results, exceptions, move-only callables, many concurrent
// jobs, the completion/suspend race, and cancellation at every point of a
// job's life (queued, running, finished), with the callable and the result
// each counted to be destroyed exactly once.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

namespace {

using namespace std::chrono_literals;

// Destroyed exactly once, wherever the unique_ptr owning it ends up: put one
// in a callable's captures or a result to count that object's destruction.
struct Probe {
  explicit Probe(std::atomic<int>* destroyed) : destroyed_(destroyed) {}
  ~Probe() { destroyed_->fetch_add(1, std::memory_order_relaxed); }
  std::atomic<int>* destroyed_;
};

// A one-shot flag a blocking job can wait on (std::latch cannot be re-armed
// and has no timeout; the timeout turns a bug into a failure, not a hang).
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

bool wait_jobs_run(weft::BlockingPool& pool, uint64_t n) {
  return pool.wait_until([n](const weft::BlockingPool::Stats& s) { return s.jobs_run >= n; },
                         10s);
}

}  // namespace

TEST_CASE("unblock returns values of any type", "[unblock]") {
  int v = weft::block_on([]() -> weft::Task<int> {
    co_return co_await weft::unblock([] { return 41; }) + 1;
  }());
  CHECK(v == 42);

  std::string s = weft::block_on([]() -> weft::Task<std::string> {
    co_return co_await weft::unblock([] { return std::string(1000, 'x'); });
  }());
  CHECK(s.size() == 1000);

  bool ran = false;
  weft::block_on([](bool* ran) -> weft::Task<void> {
    co_await weft::unblock([ran] { *ran = true; });
  }(&ran));
  CHECK(ran);

  auto p = weft::block_on([]() -> weft::Task<std::unique_ptr<int>> {
    co_return co_await weft::unblock([] { return std::make_unique<int>(5); });
  }());
  REQUIRE(p);
  CHECK(*p == 5);
}

TEST_CASE("the callable's exception travels to the awaiter", "[unblock]") {
  CHECK_THROWS_AS(weft::block_on([]() -> weft::Task<int> {
                    co_return co_await weft::unblock([]() -> int {
                      throw std::out_of_range("from the pool");
                    });
                  }()),
                  std::out_of_range);
  CHECK_THROWS_WITH(weft::block_on([]() -> weft::Task<void> {
                      co_await weft::unblock([] { throw std::runtime_error("void job"); });
                    }()),
                    "void job");
}

TEST_CASE("move-only callables and results", "[unblock]") {
  std::atomic<int> destroyed{0};
  auto probe = std::make_unique<Probe>(&destroyed);
  auto r = weft::block_on([](std::unique_ptr<Probe> p) -> weft::Task<std::unique_ptr<Probe>> {
    // The callable owns the probe and hands it back as the result. (Built
    // outside the co_await expression: see "g++ 12" in unblock.h.)
    auto job = weft::unblock([p = std::move(p)]() mutable { return std::move(p); });
    co_return co_await job;
  }(std::move(probe)));
  CHECK(destroyed.load() == 0);
  r.reset();
  CHECK(destroyed.load() == 1);
}

TEST_CASE("unblock(f, args...) moves the arguments into the job", "[unblock]") {
  std::atomic<int> destroyed{0};
  auto probe = std::make_unique<Probe>(&destroyed);
  int v = weft::block_on([](std::unique_ptr<Probe> p, std::atomic<int>* d) -> weft::Task<int> {
    // No capturing lambda inside the co_await expression: safe on g++ 12.
    co_return co_await weft::unblock(
        [](std::unique_ptr<Probe> q, int k) { return q ? k : -1; }, std::move(p), 7);
  }(std::move(probe), &destroyed));
  CHECK(v == 7);
  CHECK(destroyed.load() == 1);  // the argument went with the job
}

TEST_CASE("the callable is destroyed on the pool before the awaiter resumes", "[unblock]") {
  std::atomic<int> destroyed{0};
  int seen = weft::block_on([](std::atomic<int>* d) -> weft::Task<int> {
    auto job = weft::unblock([p = std::make_unique<Probe>(d)] {});
    co_await job;
    co_return d->load();
  }(&destroyed));
  CHECK(seen == 1);
}

TEST_CASE("jobs started before any await run concurrently", "[unblock]") {
  // Each job waits for the other: only two threads at once can finish them.
  weft::block_on([]() -> weft::Task<void> {
    std::latch both(2);
    auto a = weft::unblock([&] { both.arrive_and_wait(); return 1; });
    auto b = weft::unblock([&] { both.arrive_and_wait(); return 2; });
    int sum = co_await a;
    sum += co_await b;
    CHECK(sum == 3);
  }());
}

TEST_CASE("10,000 concurrent jobs each complete exactly once", "[unblock][stress]") {
  constexpr int kJobs = 10'000;
  std::vector<std::atomic<int>> runs(kJobs);
  std::vector<std::atomic<int>> resumes(kJobs);
  weft::Executor ex;
  weft_test::Gate stop;
  std::thread second([&] {
    ex.run([](weft_test::Gate* stop) -> weft::Task<void> { co_await *stop; }(&stop));
  });
  int64_t total = ex.run([&]() -> weft::Task<int64_t> {
    std::vector<weft::JoinHandle<int>> hs;
    hs.reserve(kJobs);
    for (int i = 0; i < kJobs; ++i) {
      hs.push_back(ex.spawn([](std::atomic<int>* run, std::atomic<int>* resumed,
                               int i) -> weft::Task<int> {
        int v = co_await weft::unblock([run, i] {
          run->fetch_add(1, std::memory_order_relaxed);
          return i;
        });
        resumed->fetch_add(1, std::memory_order_relaxed);
        co_return v;
      }(&runs[i], &resumes[i], i)));
    }
    int64_t sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
  }());
  stop.open();
  second.join();
  CHECK(total == int64_t{kJobs} * (kJobs - 1) / 2);
  int bad = 0;
  for (int i = 0; i < kJobs; ++i) {
    if (runs[i].load() != 1 || resumes[i].load() != 1) ++bad;
  }
  CHECK(bad == 0);
}

// A job that finishes while its awaiter is still suspending: 20,000
// sequential round trips on a two-worker executor. A lost wake-up hangs.
TEST_CASE("a completion racing with the suspend is never lost", "[unblock][stress]") {
  constexpr int kRounds = 20'000;
  weft::Executor ex;
  std::atomic<bool> done{false};
  std::thread second([&] {
    ex.run([](std::atomic<bool>* done) -> weft::Task<void> {
      while (!done->load(std::memory_order_acquire)) co_await weft::yield_now();
    }(&done));
  });
  int n = ex.run([]() -> weft::Task<int> {
    int sum = 0;
    for (int i = 0; i < kRounds; ++i) sum += co_await weft::unblock([] { return 1; });
    co_return sum;
  }());
  done.store(true, std::memory_order_release);
  second.join();
  CHECK(n == kRounds);
}

TEST_CASE("cancelling the awaiting task while the job runs", "[unblock][cancel]") {
  std::atomic<int> callable_destroyed{0};
  std::atomic<int> result_destroyed{0};
  std::atomic<int> frames{0};
  std::atomic<int> frames_destroyed{0};
  Flag started, release;
  bool resumed = false;
  // Destroying the pool waits until its threads are done with every job,
  // so the counts below are final.
  std::optional<weft::BlockingPool> pool_holder(std::in_place);
  weft::BlockingPool& pool = *pool_holder;

  weft::LocalExecutor ex;
  auto h = ex.spawn([](weft::BlockingPool* pool, Flag* started, Flag* release,
                       std::atomic<int>* cd, std::atomic<int>* rd, std::atomic<int>* live,
                       std::atomic<int>* fd, bool* resumed) -> weft::Task<void> {
    weft_test::Counted frame(live, fd);
    auto job = pool->spawn([p = std::make_unique<Probe>(cd), started, release, rd] {
      started->raise();
      release->wait();
      return std::make_unique<Probe>(rd);
    });
    auto r = co_await job;
    *resumed = true;  // never reached: the task is cancelled first
  }(&pool, &started, &release, &callable_destroyed, &result_destroyed, &frames,
                                &frames_destroyed, &resumed));
  while (ex.try_tick()) {
  }
  started.wait();  // the job runs, the task is suspended on it
  h = {};          // cancel: the frame goes at its suspension point
  while (ex.try_tick()) {
  }
  CHECK(frames_destroyed.load() == 1);
  CHECK(callable_destroyed.load() == 0);  // still running
  release.raise();
  pool_holder.reset();
  CHECK(callable_destroyed.load() == 1);
  CHECK(result_destroyed.load() == 1);  // produced, never delivered, freed once
  CHECK_FALSE(resumed);
}

TEST_CASE("cancelling while the job is queued skips it", "[unblock][cancel]") {
  std::optional<weft::BlockingPool> pool_holder(std::in_place,
                                                weft::BlockingPoolOptions{.max_threads = 1});
  weft::BlockingPool& pool = *pool_holder;
  Flag blocker_started, release;
  auto blocker = pool.spawn([&] {
    blocker_started.raise();
    release.wait();
  });
  blocker_started.wait();  // the only thread is busy

  std::atomic<int> callable_destroyed{0};
  std::atomic<int> ran{0};
  weft::LocalExecutor ex;
  auto h = ex.spawn([](weft::BlockingPool* pool, std::atomic<int>* cd,
                       std::atomic<int>* ran) -> weft::Task<int> {
    auto job = pool->spawn([p = std::make_unique<Probe>(cd), ran] {
      ran->fetch_add(1);
      return 1;
    });
    co_return co_await job;
  }(&pool, &callable_destroyed, &ran));
  while (ex.try_tick()) {
  }
  CHECK(pool.stats().jobs_queued == 1);
  h = {};
  while (ex.try_tick()) {
  }
  release.raise();
  (void)blocker.wait();
  pool_holder.reset();  // waits until both jobs are completely done
  CHECK(ran.load() == 0);
  CHECK(callable_destroyed.load() == 1);
}

TEST_CASE("dropping a handle whose job finished frees the result once", "[unblock][cancel]") {
  std::atomic<int> result_destroyed{0};
  {
    weft::BlockingPool pool;
    {
      auto job = pool.spawn([&] { return std::make_unique<Probe>(&result_destroyed); });
      while (!job.is_ready()) std::this_thread::yield();  // finished, not taken
      CHECK(result_destroyed.load() == 0);
    }
  }  // the pool's thread is done with the job too
  CHECK(result_destroyed.load() == 1);
}

TEST_CASE("a cancelled task's waker does not outlive the wait", "[unblock][cancel]") {
  // The awaiter takes its waker back when its frame is destroyed, so a job
  // that finishes later wakes nothing and keeps no task header alive.
  weft::BlockingPool pool({.max_threads = 1});
  Flag started, release;
  weft::LocalExecutor ex;
  auto job = pool.spawn([&] {
    started.raise();
    release.wait();
    return 3;
  });
  auto h = ex.spawn([](weft::BlockingJob<int>* job) -> weft::Task<int> {
    co_return co_await *job;  // awaited by reference: the job outlives the task
  }(&job));
  while (ex.try_tick()) {
  }
  started.wait();
  h = {};
  while (ex.try_tick()) {
  }
  release.raise();
  CHECK(job.wait() == 3);  // the handle is still usable after the awaiter went
  CHECK_FALSE(ex.try_tick());
}

TEST_CASE("detach lets the job finish; wait blocks for the result", "[unblock]") {
  weft::BlockingPool pool;
  std::atomic<int> ran{0};
  pool.spawn([&] { ran.fetch_add(1); }).detach();
  REQUIRE(wait_jobs_run(pool, 1));
  CHECK(ran.load() == 1);
  CHECK(pool.spawn([] { return 9; }).wait() == 9);
  CHECK_THROWS_AS(pool.spawn([]() -> int { throw std::logic_error("x"); }).wait(),
                  std::logic_error);
}

TEST_CASE("misuse fails loudly", "[unblock]") {
  auto errors = weft::block_on([]() -> weft::Task<std::vector<std::string>> {
    std::vector<std::string> errors;
    auto job = weft::unblock([] { return 1; });
    int v = co_await job;
    errors.push_back(std::to_string(v));
    try {
      co_await job;
    } catch (const std::logic_error& e) {
      errors.push_back(e.what());
    }
    weft::BlockingJob<int> empty;
    try {
      co_await empty;
    } catch (const std::logic_error& e) {
      errors.push_back(e.what());
    }
    co_return errors;
  }());
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] == "1");
  CHECK_THAT(errors[1], Catch::Contains("awaited twice"));
  CHECK_THAT(errors[2], Catch::Contains("moved-from"));
}
