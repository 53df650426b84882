// A task thread that parks as the I/O watcher makes no non-blocking poll
// before it parks (reactor/io_poll.cc): the watcher's blocking epoll_wait
// returns at once with whatever that poll would have found, so an idle
// server's round trip costs epoll_wait (woken), read, write, and nothing
// more before the next wait.
//
// Its own binary: the counters are process-wide, and the test needs a
// runtime whose only task thread is its one worker.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>

#include "reactor/metrics.h"
#include "test_util.h"
#include "weft.h"

using weft::Async;
using weft::OwnedFd;
using weft::ReactorMetrics;

namespace {

constexpr int kRoundTrips = 200;
// Between round trips, as idle_rtt's gaps: longer than two of the driver's
// check intervals (reactor_internal.h), so the worker does not count as
// polling steadily. A workload, not a fix for a race: any gap is correct.
constexpr auto kGap = std::chrono::milliseconds(2);

std::pair<OwnedFd, OwnedFd> socket_pair() {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  return {OwnedFd(fds[0]), OwnedFd(fds[1])};
}

// Yields until `done(reactor_metrics())`; returns that snapshot. A stall
// fails the test through its timeout.
template <class Done>
ReactorMetrics wait_for(Done done) {
  for (;;) {
    ReactorMetrics m = weft::reactor_metrics();
    if (done(m)) return m;
    std::this_thread::yield();
  }
}

// Echoes one byte at a time until `n` round trips or an error; returns the
// round trips served.
weft::Task<int> echo(Async<OwnedFd>* s, int n) {
  int served = 0;
  while (served < n) {
    char c = 0;
    auto r = co_await s->read(&c, 1);
    if (!r.ok() || *r != 1) break;
    auto w = co_await s->write(&c, 1);
    if (!w.ok() || *w != 1) break;
    ++served;
  }
  co_return served;
}

}  // namespace

TEST_CASE("a worker that parks as the watcher makes no non-blocking poll first",
          "[reactor][watcher]") {
  auto [a, b] = socket_pair();
  auto server = Async<OwnedFd>::create(std::move(a));
  REQUIRE(server.ok());
  weft::Executor ex;
  const ReactorMetrics m0 = weft::reactor_metrics();
  // A blocking client that no runtime knows writes each byte once the
  // worker (the only task thread) waits as the watcher (nobody else polls;
  // a wait is counted before it sleeps), and kGap after the last reply: an
  // idle server, woken once per round trip, not one that polls steadily
  // (a thread that polls in consecutive check intervals keeps its poll).
  int echoed = 0;
  std::thread client([&echoed, &m0, fd = b.get()] {
    uint64_t waits = m0.watcher_waits;
    for (int i = 0; i < kRoundTrips; ++i) {
      std::this_thread::sleep_for(kGap);
      waits = wait_for([&](const ReactorMetrics& m) { return m.watcher_waits > waits; })
                  .watcher_waits;
      char c = static_cast<char>('a' + i % 26);
      char back = 0;
      if (::write(fd, &c, 1) != 1 || ::read(fd, &back, 1) != 1 || back != c) break;
      ++echoed;
    }
  });
  // Spawned, not the root: its wake-ups go to the worker's own queue, as a
  // server's connection tasks do.
  const int served = ex.run([](weft::Executor& ex, Async<OwnedFd>* s) -> weft::Task<int> {
    co_return co_await ex.spawn(echo(s, kRoundTrips));
  }(ex, &*server));
  client.join();
  const ReactorMetrics m1 = weft::reactor_metrics();
  CHECK(served == kRoundTrips);
  CHECK(echoed == kRoundTrips);
  CHECK(m1.watcher_waits - m0.watcher_waits >= kRoundTrips);
  // It used to poll once before each of those waits; now only its periodic
  // polls remain (one per 61 ticks, about 2 ticks a round trip).
  CHECK(m1.task_polls - m0.task_polls < kRoundTrips / 4);
}
