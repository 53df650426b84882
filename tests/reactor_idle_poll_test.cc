// Task threads make no epoll_wait call that cannot find anything
// (reactor/io_poll.cc): with no fd registered, a worker's periodic poll
// (every 61 ticks) and its poll before parking return without a syscall; a
// program that only computes, or only uses timers, polls nothing. Parking
// is unchanged: an idle thread still waits in epoll_wait as the watcher
// (a thread parked on its raw futex would defer signal handlers under
// ThreadSanitizer). Events on an fd registered later are still found: by
// the watcher, by the registering thread's own polls, or by the driver.
//
// Its own binary: the reactor is one per process, and the first test needs
// a process in which no fd is registered.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "net_test_util.h"
#include "reactor/metrics.h"
#include "weft.h"

using weft::Async;
using weft::OwnedFd;
using weft::ReactorMetrics;

namespace {

using namespace std::chrono_literals;

std::pair<OwnedFd, OwnedFd> socket_pair() {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  return {OwnedFd(fds[0]), OwnedFd(fds[1])};
}

weft::Task<void> yielder(int n) {
  for (int i = 0; i < n; ++i) co_await weft::yield_now();
}

// Tasks that yield, in bursts with sleeps between (a timer: no fd), so both
// workers also run out of work and park, again and again.
weft::Task<void> compute_in_bursts(weft::Executor& ex) {
  for (int burst = 0; burst < 20; ++burst) {
    std::vector<weft::JoinHandle<void>> tasks;
    for (int t = 0; t < 8; ++t) tasks.push_back(ex.spawn(yielder(500)));
    for (auto& t : tasks) co_await t;
    co_await weft::sleep_for(2ms);
  }
}

weft::Task<char> read_one(Async<OwnedFd>* r) {
  char c = 0;
  auto n = co_await r->read(&c, 1);
  co_return n.ok() && *n == 1 ? c : '\0';
}

}  // namespace

TEST_CASE("with no fd registered, task threads make no non-blocking poll", "[reactor][idle]") {
  weft::Executor ex;
  const ReactorMetrics m0 = weft::reactor_metrics();
  REQUIRE(m0.registrations == 0);
  // 80,000 task runs on two workers: ~1,300 periodic polls if they polled.
  weft_test::run_with_helper(ex, compute_in_bursts(ex));
  const ReactorMetrics m1 = weft::reactor_metrics();
  CHECK(m1.registrations == 0);
  CHECK(m1.task_polls == m0.task_polls);
}

TEST_CASE("an fd registered by another thread after the workers parked is served",
          "[reactor][idle]") {
  weft::Executor ex;
  weft_test::run_with_helper(ex, [](weft::Executor& ex) -> weft::Task<void> {
    co_await compute_in_bursts(ex);  // the workers have parked, polling nothing first
    for (int round = 0; round < 20; ++round) {
      auto [a, b] = socket_pair();
      // Registered by a thread the runtime does not know.
      std::optional<Async<OwnedFd>> reader;
      std::thread([&] {
        auto r = Async<OwnedFd>::create(std::move(a));
        if (r.ok()) reader.emplace(std::move(*r));
      }).join();
      REQUIRE(reader.has_value());
      auto got = ex.spawn(read_one(&*reader));
      // Written before the reader waits, or (after a sleep that lets both
      // workers park) once it does; by a thread the runtime does not know.
      if (round % 2) co_await weft::sleep_for(3ms);
      ssize_t wrote = 0;
      std::thread([&wrote, fd = b.get()] { wrote = ::write(fd, "x", 1); }).join();
      REQUIRE(wrote == 1);
      // A lost event shows as a stall: the test's timeout.
      const char c = co_await got;
      CHECK(c == 'x');
    }
  }(ex));
}
