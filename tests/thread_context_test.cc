// The thread's scheduler context (executor/thread_context.h): run() and
// try_tick() name the worker slot or local core the thread serves, block_on
// hides them, and each scope restores what it replaced.
#include <catch2/catch.hpp>

#include "executor/thread_context.h"
#include "weft.h"

using weft::detail::current_local_core;
using weft::detail::current_worker_slot;
using weft::detail::LocalCore;
using weft::detail::WorkerSlot;

namespace {

struct Seen {
  WorkerSlot* worker = nullptr;
  LocalCore* local = nullptr;
  bool filled = false;
};

weft::Task<void> record(Seen& s) {
  s.worker = current_worker_slot();
  s.local = current_local_core();
  s.filled = true;
  co_return;
}

}  // namespace

TEST_CASE("Executor::run names the thread's worker slot only while it runs",
          "[thread_context]") {
  REQUIRE(current_worker_slot() == nullptr);
  weft::Executor ex;
  Seen inside;
  ex.run(record(inside));
  REQUIRE(inside.filled);
  CHECK(inside.worker != nullptr);
  CHECK(inside.local == nullptr);
  CHECK(current_worker_slot() == nullptr);
}

TEST_CASE("LocalExecutor::run and try_tick name the thread's local core",
          "[thread_context]") {
  weft::LocalExecutor ex;
  Seen in_run, in_tick;
  ex.run(record(in_run));
  REQUIRE(in_run.filled);
  CHECK(in_run.local != nullptr);
  CHECK(in_run.worker == nullptr);
  CHECK(current_local_core() == nullptr);

  auto h = ex.spawn(record(in_tick));
  CHECK(ex.try_tick());
  REQUIRE(in_tick.filled);
  CHECK(in_tick.local == in_run.local);  // the same executor's core
  CHECK(current_local_core() == nullptr);
}

TEST_CASE("block_on hides the context of the thread it blocks, then restores it",
          "[thread_context]") {
  weft::Executor ex;
  weft::LocalExecutor local;
  Seen outer, nested, after;
  // A LocalExecutor's task that enters an Executor's run(): both are set,
  // then block_on inside hides both.
  local.run([&]() -> weft::Task<void> {
    ex.run([&]() -> weft::Task<void> {
      co_await record(outer);
      weft::block_on(record(nested));
      co_await record(after);
    }());
    co_return;
  }());
  REQUIRE(outer.filled);
  REQUIRE(nested.filled);
  REQUIRE(after.filled);
  CHECK(outer.worker != nullptr);
  CHECK(outer.local != nullptr);
  CHECK(nested.worker == nullptr);
  CHECK(nested.local == nullptr);
  CHECK(after.worker == outer.worker);
  CHECK(after.local == outer.local);
  CHECK(current_worker_slot() == nullptr);
  CHECK(current_local_core() == nullptr);
}
