// Executor::dump() (executor/task_dump.h): every live task with its state,
// its run count and the place it was spawned, from any thread.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using weft_test::Gate;

namespace {

weft::Task<void> wait_on(Gate& g) { co_await g; }

weft::Task<void> nothing() { co_return; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

size_t count(const weft::TaskDump& d, weft::TaskStatus s, uint32_t line = 0) {
  return static_cast<size_t>(std::count_if(d.tasks.begin(), d.tasks.end(), [&](const auto& t) {
    return t.status == s && (line == 0 || t.spawned_at.line() == line);
  }));
}

// Yields four times, dumps its executor during its fifth run, then waits.
// (A named coroutine, not a capturing lambda: a spawned lambda coroutine
// would outlive the closure that holds its captures.)
weft::Task<void> dump_in_fifth_run(weft::Executor& ex, weft::TaskDump& seen, Gate& gate) {
  for (int i = 0; i < 4; ++i) co_await weft::yield_now();
  seen = ex.dump();
  co_await gate;
}

// Lets every other task of a 1-thread executor run until it suspends.
weft::Task<void> settle() {
  for (int i = 0; i < 10; ++i) co_await weft::yield_now();
}

}  // namespace

TEST_CASE("dump: idle tasks are listed with the line that spawned them", "[dump]") {
  weft::Executor ex;
  Gate gate;
  std::vector<weft::JoinHandle<void>> hs;
  uint32_t line_a = 0, line_b = 0;
  ex.run([&]() -> weft::Task<void> {
    for (int i = 0; i < 3; ++i) {
      line_a = __LINE__ + 1;
      hs.push_back(ex.spawn(wait_on(gate)));
    }
    line_b = __LINE__ + 1;
    hs.push_back(ex.spawn(wait_on(gate)));
    co_await settle();
    weft::TaskDump d = ex.dump();
    REQUIRE(d.tasks.size() == 4);
    CHECK(count(d, weft::TaskStatus::kIdle, line_a) == 3);
    CHECK(count(d, weft::TaskStatus::kIdle, line_b) == 1);
    for (const auto& t : d.tasks) {
      CHECK(ends_with(t.spawned_at.file_name(), "task_dump_test.cc"));
      CHECK(t.runs == 1);  // started once, then suspended on the gate
      CHECK(t.joined);
      CHECK(t.id != 0);
    }
    const std::string text = d.to_string();
    INFO(text);
    CHECK(text.find("4 live tasks: 4 idle") == 0);
    CHECK(text.find("3 idle  spawned at ") != std::string::npos);
    CHECK(text.find("task_dump_test.cc:" + std::to_string(line_a)) != std::string::npos);
    CHECK(text.find("task_dump_test.cc:" + std::to_string(line_b)) != std::string::npos);
    gate.open();
    for (auto& h : hs) co_await h;
    CHECK(ex.dump().tasks.empty());
  }());
}

TEST_CASE("dump: queued tasks are scheduled and have not run", "[dump]") {
  weft::Executor ex;
  std::vector<weft::JoinHandle<void>> hs;
  for (int i = 0; i < 5; ++i) hs.push_back(ex.spawn(nothing()));
  weft::TaskDump d = ex.dump();
  REQUIRE(d.tasks.size() == 5);
  for (const auto& t : d.tasks) {
    CHECK(t.status == weft::TaskStatus::kScheduled);
    CHECK(t.runs == 0);
  }
  CHECK(d.to_string().find("5 live tasks: 5 scheduled") == 0);
  ex.run([&]() -> weft::Task<void> {
    for (auto& h : hs) co_await h;
  }());
  CHECK(ex.dump().tasks.empty());
}

TEST_CASE("dump: a task sees itself running; runs count every resume; detached is not joined",
          "[dump]") {
  weft::Executor ex;
  weft::TaskDump seen;
  Gate gate;
  ex.run([&]() -> weft::Task<void> {
    auto h = ex.spawn(dump_in_fifth_run(ex, seen, gate));
    h.detach();
    while (seen.tasks.empty()) co_await weft::yield_now();
    REQUIRE(seen.tasks.size() == 1);
    CHECK(seen.tasks[0].status == weft::TaskStatus::kRunning);
    CHECK(seen.tasks[0].runs == 5);
    CHECK_FALSE(seen.tasks[0].joined);
    co_await settle();
    weft::TaskDump d = ex.dump();
    REQUIRE(d.tasks.size() == 1);
    CHECK(d.tasks[0].status == weft::TaskStatus::kIdle);
    CHECK(d.tasks[0].id == seen.tasks[0].id);
    gate.open();
    co_await settle();
  }());
}

TEST_CASE("dump: LocalExecutor, LocalPool, the global spawn and JoinSet record the caller",
          "[dump]") {
  Gate gate;
  {
    weft::LocalExecutor lx;
    const uint32_t line = __LINE__ + 1;
    auto h = lx.spawn(wait_on(gate));
    lx.run(settle());
    weft::TaskDump d = lx.dump();
    REQUIRE(d.tasks.size() == 1);
    CHECK(d.tasks[0].spawned_at.line() == line);
    CHECK(d.tasks[0].status == weft::TaskStatus::kIdle);
    h.abort();
  }
  {
    weft::LocalPool pool(weft::LocalPoolOptions{.threads = 2});
    const uint32_t line = __LINE__ + 1;
    auto h = pool.spawn_pinned_on(1, [&gate] { return wait_on(gate); });
    // The pinned task is listed by worker 1 from the moment it is spawned.
    std::vector<weft::TaskDump> ds = pool.dump();
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].tasks.empty());
    REQUIRE(ds[1].tasks.size() == 1);
    CHECK(ds[1].tasks[0].spawned_at.line() == line);
    CHECK(ends_with(ds[1].tasks[0].spawned_at.file_name(), "task_dump_test.cc"));
    h.abort();
  }
  {
    const uint32_t line = __LINE__ + 1;
    auto h = weft::spawn(wait_on(gate));
    bool found = false;
    for (const auto& t : weft::global_executor().dump().tasks) {
      found = found || (t.spawned_at.line() == line &&
                        ends_with(t.spawned_at.file_name(), "task_dump_test.cc"));
    }
    CHECK(found);
    h.abort();
  }
  {
    weft::Executor ex;
    weft::JoinSet<void> set;
    const uint32_t line = __LINE__ + 1;
    set.spawn(ex, wait_on(gate));
    weft::TaskDump d = ex.dump();
    REQUIRE(d.tasks.size() == 1);
    CHECK(d.tasks[0].spawned_at.line() == line);
  }
}

TEST_CASE("dump: to_string groups by site and status, biggest first, and caps the groups",
          "[dump]") {
  weft::TaskDump d;
  weft::TaskInfo idle;
  idle.status = weft::TaskStatus::kIdle;
  weft::TaskInfo running;
  running.status = weft::TaskStatus::kRunning;
  for (int i = 0; i < 3; ++i) d.tasks.push_back(running);
  for (int i = 0; i < 7; ++i) d.tasks.push_back(idle);
  std::string all = d.to_string();
  INFO(all);
  CHECK(all.find("10 live tasks: 7 idle, 3 running\n") == 0);
  const size_t i7 = all.find("  7 idle  spawned at an unrecorded place\n");
  const size_t i3 = all.find("  3 running  spawned at an unrecorded place\n");
  CHECK(i7 != std::string::npos);
  CHECK(i3 != std::string::npos);
  CHECK(i7 < i3);
  std::string capped = d.to_string(1);
  CHECK(capped.find("  3 more in smaller groups\n") != std::string::npos);
  // "running" stays in the totals line only: its group is folded into the rest.
  CHECK(capped.find("running", capped.find('\n')) == std::string::npos);
  CHECK(capped.find("3 running  spawned") == std::string::npos);
  CHECK(weft::TaskDump{}.to_string() == "0 live tasks\n");
}

TEST_CASE("dump: from another thread while workers spawn and finish tasks", "[dump][stress]") {
  weft::Executor ex;
  std::atomic<bool> done{false};
  std::atomic<size_t> dumps{0};
  std::thread dumper([&] {
    while (!done.load(std::memory_order_acquire)) {
      weft::TaskDump d = ex.dump();
      for (const auto& t : d.tasks) {
        // Every listed task came from the spawn below, in this file.
        if (!ends_with(t.spawned_at.file_name(), "task_dump_test.cc")) std::abort();
      }
      dumps.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::thread second([&] {
    ex.run([&]() -> weft::Task<void> {
      while (!done.load(std::memory_order_acquire)) co_await weft::yield_now();
    }());
  });
  ex.run([&]() -> weft::Task<void> {
    for (int round = 0; round < 200; ++round) {
      std::vector<weft::JoinHandle<void>> hs;
      for (int i = 0; i < 50; ++i) {
        hs.push_back(ex.spawn([]() -> weft::Task<void> { co_await weft::yield_now(); }()));
      }
      for (auto& h : hs) co_await h;
    }
  }());
  // The dumper has run at least once before we stop it.
  while (dumps.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
  done.store(true, std::memory_order_release);
  dumper.join();
  second.join();
  CHECK(ex.dump().tasks.empty());
}
