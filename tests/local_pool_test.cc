// LocalPool: pinned tasks are built and run on one worker thread for life,
// placement by load or index, spawn_local, shutdown cancelling on the
// workers' own threads, CPU pinning and bad options.
#include <catch2/catch.hpp>

#include <sched.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using weft_test::Gate;

namespace {

// Records the thread it is destroyed on (a frame's local).
struct DestroyedOn {
  std::thread::id* where;
  ~DestroyedOn() { *where = std::this_thread::get_id(); }
};

weft::Task<std::thread::id> hops_and_reports(int hops, bool* stayed) {
  const std::thread::id start = std::this_thread::get_id();
  *stayed = true;
  for (int i = 0; i < hops; ++i) {
    if (i % 2) {
      co_await weft::yield_now();
    } else {
      co_await weft::sleep_for(std::chrono::microseconds(50));
    }
    if (std::this_thread::get_id() != start) *stayed = false;
  }
  co_return start;
}

}  // namespace

TEST_CASE("spawn_pinned builds the task on a worker and it stays there", "[local_pool]") {
  weft::LocalPool pool({.threads = 2});
  REQUIRE(pool.size() == 2);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id built_on;
  std::optional<size_t> worker_at_build;
  bool stayed = false;
  auto h = pool.spawn_pinned([&] {
    built_on = std::this_thread::get_id();  // f itself runs on the worker
    worker_at_build = weft::LocalPool::current_worker();
    return hops_and_reports(20, &stayed);
  });
  const std::thread::id ran_on =
      weft::block_on([&]() -> weft::Task<std::thread::id> { co_return co_await h; }());
  CHECK(built_on != caller);
  CHECK(ran_on == built_on);
  CHECK(stayed);
  REQUIRE(worker_at_build.has_value());
  CHECK(*worker_at_build < 2);
  CHECK_FALSE(weft::LocalPool::current_worker().has_value());
}

TEST_CASE("spawn_pinned_on picks the worker; a bad index throws", "[local_pool]") {
  weft::LocalPool pool({.threads = 3});
  for (size_t i = 0; i < 3; ++i) {
    auto h = pool.spawn_pinned_on(i, [] {
      return []() -> weft::Task<size_t> { co_return *weft::LocalPool::current_worker(); }();
    });
    CHECK(weft::block_on([&]() -> weft::Task<size_t> { co_return co_await h; }()) == i);
  }
  CHECK_THROWS_AS(pool.spawn_pinned_on(3, [] { return []() -> weft::Task<void> { co_return; }(); }),
                  std::out_of_range);
}

TEST_CASE("spawn_pinned goes to the least loaded worker", "[local_pool]") {
  weft::LocalPool pool({.threads = 2});
  Gate gate;
  std::vector<weft::JoinHandle<size_t>> held;
  // Three tasks that stay parked on worker 0.
  for (int i = 0; i < 3; ++i) {
    held.push_back(pool.spawn_pinned_on(0, [&gate] {
      return [](Gate* g) -> weft::Task<size_t> {
        co_await *g;
        co_return *weft::LocalPool::current_worker();
      }(&gate);
    }));
  }
  CHECK(pool.pinned_tasks(0) == 3);
  CHECK(pool.pinned_tasks(1) == 0);
  // The next three go to worker 1 (0 < 3, 1 < 3, 2 < 3), whatever the
  // rotating start of the scan.
  for (int i = 0; i < 3; ++i) {
    held.push_back(pool.spawn_pinned([&gate] {
      return [](Gate* g) -> weft::Task<size_t> {
        co_await *g;
        co_return *weft::LocalPool::current_worker();
      }(&gate);
    }));
  }
  CHECK(pool.pinned_tasks(1) == 3);
  while (gate.waiting() < 6) std::this_thread::yield();
  gate.open();
  std::vector<size_t> where;
  weft::block_on([&]() -> weft::Task<void> {
    for (auto& h : held) where.push_back(co_await h);
  }());
  CHECK(where == std::vector<size_t>{0, 0, 0, 1, 1, 1});
  // Finished tasks no longer count.
  CHECK(pool.pinned_tasks(0) == 0);
  CHECK(pool.pinned_tasks(1) == 0);
}

TEST_CASE("an idle pool spreads spawns over its workers", "[local_pool]") {
  weft::LocalPool pool({.threads = 2});
  Gate gate;
  std::vector<weft::JoinHandle<void>> held;
  for (int i = 0; i < 10; ++i) {
    held.push_back(pool.spawn_pinned([&gate] {
      return [](Gate* g) -> weft::Task<void> { co_await *g; }(&gate);
    }));
  }
  CHECK(pool.pinned_tasks(0) == 5);
  CHECK(pool.pinned_tasks(1) == 5);
  while (gate.waiting() < 10) std::this_thread::yield();
  gate.open();
  weft::block_on([&]() -> weft::Task<void> {
    for (auto& h : held) co_await h;
  }());
}

TEST_CASE("spawn_local runs beside the pinned task on its worker", "[local_pool]") {
  weft::LocalPool pool({.threads = 2});
  auto h = pool.spawn_pinned([] {
    return []() -> weft::Task<bool> {
      const std::thread::id mine = std::this_thread::get_id();
      // State that is not thread-safe, shared by the two tasks: fine, they
      // share a thread.
      int counter = 0;
      std::thread::id child_on;
      auto child = weft::LocalPool::spawn_local([](int* c, std::thread::id* where) -> weft::Task<void> {
        for (int i = 0; i < 100; ++i) {
          ++*c;
          co_await weft::yield_now();
        }
        *where = std::this_thread::get_id();
      }(&counter, &child_on));
      co_await child;
      co_return counter == 100 && child_on == mine && std::this_thread::get_id() == mine;
    }();
  });
  CHECK(weft::block_on([&]() -> weft::Task<bool> { co_return co_await h; }()));
  CHECK_THROWS_AS(weft::LocalPool::spawn_local([]() -> weft::Task<void> { co_return; }()),
                  std::logic_error);
}

TEST_CASE("exceptions from f and from the task reach the awaiter", "[local_pool]") {
  weft::LocalPool pool({.threads = 1});
  auto a = pool.spawn_pinned([]() -> weft::Task<int> { throw std::runtime_error("from f"); });
  auto b = pool.spawn_pinned([] {
    return []() -> weft::Task<int> {
      co_await weft::yield_now();
      throw std::runtime_error("from the task");
    }();
  });
  CHECK_THROWS_WITH(weft::block_on([&]() -> weft::Task<int> { co_return co_await a; }()), "from f");
  CHECK_THROWS_WITH(weft::block_on([&]() -> weft::Task<int> { co_return co_await b; }()),
                    "from the task");
}

TEST_CASE("destroying the pool cancels running tasks on their own threads", "[local_pool]") {
  std::atomic<int> live{0}, destroyed{0};
  Gate never;
  std::vector<std::thread::id> built(4), destroyed_on(4);
  std::vector<weft::JoinHandle<void>> handles;
  {
    weft::LocalPool pool({.threads = 2});
    for (int i = 0; i < 4; ++i) {
      handles.push_back(pool.spawn_pinned_on(i % 2, [&, i] {
        built[i] = std::this_thread::get_id();
        return [](Gate* g, std::atomic<int>* l, std::atomic<int>* d,
                  std::thread::id* where) -> weft::Task<void> {
          weft_test::Counted c(l, d);
          DestroyedOn on{where};
          co_await *g;
        }(&never, &live, &destroyed, &destroyed_on[i]);
      }));
    }
    while (never.waiting() < 4) std::this_thread::yield();
    CHECK(live.load() == 4);
  }
  CHECK(live.load() == 0);
  CHECK(destroyed.load() == 4);
  for (int i = 0; i < 4; ++i) CHECK(destroyed_on[i] == built[i]);
  for (auto& h : handles) {
    CHECK_THROWS_AS(weft::block_on([&]() -> weft::Task<void> { co_await h; }()),
                    weft::TaskCancelled);
  }
}

TEST_CASE("tasks may spawn across workers while the pool shuts down", "[local_pool]") {
  // Each worker's task keeps sending tasks to the other worker until it is
  // cancelled; the shutdown must neither crash nor leak (ASan, TSan).
  std::atomic<int> live{0};
  for (int round = 0; round < 20; ++round) {
    weft::LocalPool pool({.threads = 2});
    for (size_t i = 0; i < 2; ++i) {
      pool.spawn_pinned_on(i, [&pool, &live, i] {
        return [](weft::LocalPool* p, std::atomic<int>* l, size_t other) -> weft::Task<void> {
          for (;;) {
            p->spawn_pinned_on(other, [l] {
               return [](std::atomic<int>* l) -> weft::Task<void> {
                 weft_test::Counted c(l);
                 co_await weft::yield_now();
               }(l);
             }).detach();
            co_await weft::yield_now();
          }
        }(&pool, &live, 1 - i);
      }).detach();
    }
    while (pool.pinned_tasks(0) + pool.pinned_tasks(1) < 10) std::this_thread::yield();
  }
  CHECK(live.load() == 0);
}

TEST_CASE("many threads spawn pinned tasks at once", "[local_pool]") {
  weft::LocalPool pool({.threads = 2});
  constexpr int kThreads = 4, kEach = 500;
  std::atomic<long> sum{0};
  std::vector<std::thread> spawners;
  for (int t = 0; t < kThreads; ++t) {
    spawners.emplace_back([&, t] {
      std::vector<weft::JoinHandle<int>> hs;
      for (int i = 0; i < kEach; ++i) {
        const int v = t * kEach + i;
        hs.push_back(pool.spawn_pinned([v] { return [](int v) -> weft::Task<int> { co_return v; }(v); }));
      }
      weft::block_on([&]() -> weft::Task<void> {
        for (auto& h : hs) sum.fetch_add(co_await h);
      }());
    });
  }
  for (auto& s : spawners) s.join();
  const long n = kThreads * kEach;
  CHECK(sum.load() == n * (n - 1) / 2);
}

TEST_CASE("pinning puts each worker on its CPU", "[local_pool]") {
  const std::vector<int> cpus = weft::allowed_cpus();
  REQUIRE_FALSE(cpus.empty());
  weft::LocalPool pool({.threads = cpus.size(), .pin_to_cpus = true});
  for (size_t i = 0; i < pool.size(); ++i) {
    auto h = pool.spawn_pinned_on(i, [] {
      return []() -> weft::Task<std::vector<int>> {
        std::vector<int> mask;
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof set, &set) == 0) {
          for (int c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) mask.push_back(c);
          }
        }
        co_return mask;
      }();
    });
    const auto mask = weft::block_on([&]() -> weft::Task<std::vector<int>> { co_return co_await h; }());
    CHECK(mask == std::vector<int>{cpus[i]});
  }
}

TEST_CASE("bad CPU options are refused with a message naming them", "[local_pool]") {
  const size_t n = weft::allowed_cpus().size();
  CHECK_THROWS_AS(weft::LocalPool({.cpus = {100000}}), std::invalid_argument);
  CHECK_THROWS_WITH(weft::LocalPool({.cpus = {-1}}), Catch::Contains("CPU -1"));
  CHECK_THROWS_AS(weft::LocalPool({.threads = n + 1, .pin_to_cpus = true}), std::invalid_argument);
  CHECK_FALSE(weft::pin_current_thread({100000}).ok());
  CHECK(weft::pin_current_thread({}).code() == absl::StatusCode::kInvalidArgument);
}
