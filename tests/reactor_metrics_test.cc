// weft::reactor_metrics(): each counter moves when its event happens, and
// no counter goes back while other threads work and exit.
//
// The reactor is one per process, so every check is on a difference
// between two snapshots. Waits for the driver ("until the counter moves")
// are liveness loops: a stall fails them through the test's timeout.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "reactor/metrics.h"
#include "reactor/reactor.h"
#include "test_util.h"
#include "weft.h"

using weft::Async;
using weft::OwnedFd;
using weft::ReactorMetrics;
using weft_test::Gate;

namespace {

std::pair<OwnedFd, OwnedFd> socket_pair() {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  return {OwnedFd(fds[0]), OwnedFd(fds[1])};
}

uint64_t io_polls(const ReactorMetrics& m) {
  return m.task_polls + m.watcher_waits + m.driver_busy_polls + m.driver_watch_polls;
}

// Yields until `done(reactor_metrics())`; returns that snapshot.
template <class Done>
ReactorMetrics wait_for(Done done) {
  for (;;) {
    ReactorMetrics m = weft::reactor_metrics();
    if (done(m)) return m;
    std::this_thread::yield();
  }
}

}  // namespace

TEST_CASE("reactor metrics: registrations count while live, and in total", "[reactor_metrics]") {
  weft::detail::Reactor::get();  // started: its own fds are not counted
  const ReactorMetrics m0 = weft::reactor_metrics();
  {
    auto [a, b] = socket_pair();
    auto x = Async<OwnedFd>::create(std::move(a));
    REQUIRE(x.ok());
    auto y = Async<OwnedFd>::create(std::move(b));
    REQUIRE(y.ok());
    const ReactorMetrics m1 = weft::reactor_metrics();
    CHECK(m1.registrations == m0.registrations + 2);
    CHECK(m1.registrations_total == m0.registrations_total + 2);
  }
  const ReactorMetrics m2 = weft::reactor_metrics();
  CHECK(m2.registrations == m0.registrations);
  CHECK(m2.registrations_total == m0.registrations_total + 2);
}

TEST_CASE("reactor metrics: a readiness event is polled, handled and wakes its task",
          "[reactor_metrics]") {
  auto [a, b] = socket_pair();
  auto x = Async<OwnedFd>::create(std::move(a));
  REQUIRE(x.ok());
  const ReactorMetrics m0 = weft::reactor_metrics();
  // The write comes from a thread that is no task thread, once the reader
  // waits for it: the reading thread, the only task thread, has parked as
  // the watcher (it does only when its task is suspended).
  std::atomic<bool> wrote{false};
  std::thread writer([&, fd = b.get()] {
    wait_for([&](const ReactorMetrics& m) { return m.watcher_waits > m0.watcher_waits; });
    char c = 'x';
    // relaxed: read after join().
    wrote.store(::write(fd, &c, 1) == 1, std::memory_order_relaxed);
  });
  char got = 0;
  auto n = weft::block_on([&]() -> weft::Task<absl::StatusOr<size_t>> {
    co_return co_await x->read(&got, 1);
  }());
  writer.join();
  CHECK(wrote.load(std::memory_order_relaxed));
  REQUIRE(n.ok());
  CHECK(*n == 1);
  CHECK(got == 'x');
  const ReactorMetrics m1 = weft::reactor_metrics();
  CHECK(m1.io_events > m0.io_events);
  CHECK(m1.io_wakes > m0.io_wakes);
  CHECK(io_polls(m1) > io_polls(m0));
}

TEST_CASE("reactor metrics: a parked task thread watches I/O, and unpark interrupts it",
          "[reactor_metrics][watcher]") {
  const ReactorMetrics m0 = weft::reactor_metrics();
  Gate gate;
  // The only task thread parks with nothing to do: it becomes the watcher
  // (no other thread polls). Its wait is counted before it sleeps, so
  // opening the gate after that interrupts it.
  std::thread opener([&] {
    wait_for([&](const ReactorMetrics& m) { return m.watcher_waits > m0.watcher_waits; });
    gate.open();
  });
  weft::block_on([](Gate& g) -> weft::Task<void> { co_await g; }(gate));
  opener.join();
  const ReactorMetrics m1 = weft::reactor_metrics();
  CHECK(m1.watcher_waits > m0.watcher_waits);
  CHECK(m1.watcher_interrupts > m0.watcher_interrupts);
}

TEST_CASE("reactor metrics: timers armed, fired, cancelled, pending", "[reactor_metrics][timers]") {
  const ReactorMetrics m0 = weft::reactor_metrics();
  // Fired: counted by the driver before it wakes the task.
  weft::block_on([]() -> weft::Task<void> { co_await weft::sleep_for(std::chrono::milliseconds(1)); }());
  const ReactorMetrics m1 = weft::reactor_metrics();
  CHECK(m1.timers_armed >= m0.timers_armed + 1);
  CHECK(m1.timers_fired >= m0.timers_fired + 1);
  CHECK(m1.timers_cancelled == m0.timers_cancelled);
  CHECK(m1.driver_waits > m0.driver_waits);

  // Pending, then cancelled: the driver counts both on its next turn.
  {
    weft::Timer t(std::chrono::hours(1));
    weft::detail::Reactor::get().wake();
    const ReactorMetrics m2 = wait_for([&](const ReactorMetrics& m) {
      return m.timers_armed > m1.timers_armed && m.timers_pending > m1.timers_pending;
    });
    CHECK(m2.timers_fired == m1.timers_fired);
  }  // ~Timer cancels
  weft::detail::Reactor::get().wake();
  const ReactorMetrics m3 = wait_for([&](const ReactorMetrics& m) {
    return m.timers_cancelled > m1.timers_cancelled && m.timers_pending == m1.timers_pending;
  });
  CHECK(m3.timers_cancelled == m1.timers_cancelled + 1);
  CHECK(m3.timers_fired == m1.timers_fired);
}

TEST_CASE("reactor metrics: the driver checks on, and polls for, a task that never awaits",
          "[reactor_metrics][driver]") {
  const ReactorMetrics m0 = weft::reactor_metrics();
  // The task computes (never awaits, never polls): the driver ticks, and
  // polls the I/O set on its behalf. The loop ends only if both counters
  // move while it runs.
  weft::block_on([&]() -> weft::Task<void> {
    wait_for([&](const ReactorMetrics& m) {
      return m.driver_checks >= m0.driver_checks + 2 && m.driver_busy_polls > m0.driver_busy_polls;
    });
    co_return;
  }());
}

TEST_CASE("reactor metrics: with no task thread at all, the driver's own watch polls",
          "[reactor_metrics][driver]") {
  // No task thread is awake here and none watches (no executor or
  // block_on runs now): an event is found by the driver's one-shot watch.
  auto [a, b] = socket_pair();
  const ReactorMetrics m0 = weft::reactor_metrics();
  auto x = Async<OwnedFd>::create(std::move(a));
  REQUIRE(x.ok());
  char c = 'x';
  REQUIRE(::write(b.get(), &c, 1) == 1);
  const ReactorMetrics m1 = wait_for([&](const ReactorMetrics& m) {
    return m.driver_watch_polls > m0.driver_watch_polls && m.io_events > m0.io_events;
  });
  CHECK(m1.task_polls == m0.task_polls);
}

TEST_CASE("reactor metrics: no counter goes back while threads poll, arm timers and exit",
          "[reactor_metrics][concurrent]") {
  std::atomic<bool> stop{false};
  // A reader on its own thread: every counter only grows between two of
  // its snapshots, task threads exiting (their counts folded into a total)
  // included.
  // Catch2's assertions are for the main thread: the reader counts what it
  // sees go back, and the test checks the count at the end.
  std::atomic<int> went_back{0};
  std::thread reader([&] {
    ReactorMetrics prev = weft::reactor_metrics();
    uint64_t snapshots = 0;
    // acquire: pairs with the release store below (nothing else rides on it).
    while (!stop.load(std::memory_order_acquire) || snapshots < 10) {
      const ReactorMetrics m = weft::reactor_metrics();
      const bool ok = m.registrations_total >= prev.registrations_total &&
                      m.io_events >= prev.io_events && m.io_wakes >= prev.io_wakes &&
                      m.task_polls >= prev.task_polls && m.watcher_waits >= prev.watcher_waits &&
                      m.watcher_interrupts >= prev.watcher_interrupts &&
                      m.driver_busy_polls >= prev.driver_busy_polls &&
                      m.driver_watch_polls >= prev.driver_watch_polls &&
                      m.driver_waits >= prev.driver_waits &&
                      m.driver_checks >= prev.driver_checks &&
                      m.timers_armed >= prev.timers_armed && m.timers_fired >= prev.timers_fired &&
                      m.timers_cancelled >= prev.timers_cancelled;
      // relaxed: read after join().
      if (!ok) went_back.fetch_add(1, std::memory_order_relaxed);
      prev = m;
      ++snapshots;
    }
  });
  std::atomic<int> io_failures{0};
  const ReactorMetrics m0 = weft::reactor_metrics();
  // Executors on two threads each, created and destroyed: their worker
  // threads poll, watch, and exit.
  for (int round = 0; round < 4; ++round) {
    weft::Executor ex;
    std::thread second([&] { ex.run([]() -> weft::Task<void> { co_await weft::sleep_for(std::chrono::milliseconds(5)); }()); });
    auto [a, b] = socket_pair();
    auto x = Async<OwnedFd>::create(std::move(a));
    auto y = Async<OwnedFd>::create(std::move(b));
    REQUIRE(x.ok());
    REQUIRE(y.ok());
    ex.run([&]() -> weft::Task<void> {
      // The echo task may run on either thread: it counts failures, and
      // the test checks them after run() (Catch2 asserts on one thread).
      auto echo = ex.spawn([](Async<OwnedFd>& s, std::atomic<int>& failures) -> weft::Task<void> {
        char c;
        for (int i = 0; i < 50; ++i) {
          bool ok = (co_await s.read(&c, 1)).ok();
          co_await weft::sleep_for(std::chrono::microseconds(100));
          ok = ok && (co_await s.write_all(&c, 1)).ok();
          if (!ok) failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: as above
        }
      }(*y, io_failures));
      for (int i = 0; i < 50; ++i) {
        char c = static_cast<char>(i);
        bool ok = (co_await x->write_all(&c, 1)).ok();
        ok = ok && (co_await x->read(&c, 1)).ok();
        if (!ok) io_failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: as above
        weft::Timer cancelled(std::chrono::hours(1));  // armed, then cancelled
      }
      co_await echo;
    }());
    second.join();
  }
  // release: pairs with the reader's acquire load.
  stop.store(true, std::memory_order_release);
  reader.join();
  CHECK(went_back.load(std::memory_order_relaxed) == 0);
  CHECK(io_failures.load(std::memory_order_relaxed) == 0);
  const ReactorMetrics m1 = weft::reactor_metrics();
  CHECK(m1.io_events > m0.io_events);
  CHECK(m1.registrations_total >= m0.registrations_total + 8);
  CHECK(m1.timers_fired >= m0.timers_fired + 4 * 50);
  CHECK(io_polls(m1) > io_polls(m0));
}
