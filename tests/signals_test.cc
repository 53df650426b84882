// weft::Signals (signal/signals.h): delivery to every set, nothing lost
// before the await, coalescing, bad signal numbers, chaining to a previous
// handler and restoring it on the last drop.
//
// No test blocks signals first: that is the point of the self-pipe design.
// Signals are raised on this process; each test uses its own signal (SIGUSR1,
// SIGUSR2, SIGHUP, real-time ones) so a test's leftovers cannot feed another.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "weft.h"

namespace {

std::atomic<int> g_previous_calls{0};
void previous_handler(int) {
  // relaxed: read by the test after the signal's effects are visible
  // through Signals (acquire on the arrival counter).
  g_previous_calls.fetch_add(1, std::memory_order_relaxed);
}

weft::Task<int> next_of(weft::Signals* s) { co_return co_await s->next(); }

}  // namespace

TEST_CASE("two sets for the same signal both see a raise()") {
  auto a = weft::Signals::create({SIGUSR1});
  auto b = weft::signal(SIGUSR1);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(::raise(SIGUSR1) == 0);
  CHECK(weft::block_on(next_of(&*a)) == SIGUSR1);
  CHECK(weft::block_on(next_of(&*b)) == SIGUSR1);
  // Reported once: nothing more is pending.
  CHECK_FALSE(a->try_next().has_value());
  CHECK_FALSE(b->try_next().has_value());
}

TEST_CASE("a signal sent before the await, from another thread, is not lost") {
  auto s = weft::Signals::create({SIGUSR2, SIGHUP});
  REQUIRE(s.ok());
  std::thread([] { ::kill(::getpid(), SIGUSR2); }).join();
  // Nobody awaited when it arrived; the await still completes.
  CHECK(weft::block_on(next_of(&*s)) == SIGUSR2);
}

TEST_CASE("a task suspended in next() is woken by a later signal") {
  auto s = weft::Signals::create({SIGHUP});
  REQUIRE(s.ok());
  weft::Executor ex;
  std::atomic<bool> started{false};
  auto waiter = [](weft::Signals* sigs, std::atomic<bool>* started) -> weft::Task<int> {
    // release: pairs with the acquire load of the raising thread below.
    started->store(true, std::memory_order_release);
    co_return co_await sigs->next();
  };
  std::thread raiser([&] {
    // acquire: pairs with the store in the task. Raising before the task
    // suspends is also correct (not lost); after is the case of this test,
    // most of the time.
    while (!started.load(std::memory_order_acquire)) std::this_thread::yield();
    ::kill(::getpid(), SIGHUP);
  });
  CHECK(ex.run(waiter(&*s, &started)) == SIGHUP);
  raiser.join();
}

TEST_CASE("several arrivals before next() coalesce into one report") {
  auto s = weft::Signals::create({SIGUSR1});
  REQUIRE(s.ok());
  const uint64_t before = weft::detail::signal_arrivals(SIGUSR1);
  for (int i = 0; i < 5; ++i) REQUIRE(::raise(SIGUSR1) == 0);
  CHECK(weft::detail::signal_arrivals(SIGUSR1) == before + 5);
  CHECK(s->try_next() == SIGUSR1);
  CHECK_FALSE(s->try_next().has_value());
}

TEST_CASE("two pending signals of a set are both reported") {
  auto s = weft::Signals::create({SIGUSR1, SIGUSR2});
  REQUIRE(s.ok());
  REQUIRE(::raise(SIGUSR2) == 0);
  REQUIRE(::raise(SIGUSR1) == 0);
  std::vector<int> got;
  got.push_back(weft::block_on(next_of(&*s)));
  got.push_back(weft::block_on(next_of(&*s)));
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<int>{SIGUSR1, SIGUSR2});
  CHECK_FALSE(s->try_next().has_value());
}

TEST_CASE("unsupported signals are InvalidArgument, and nothing is installed") {
  for (int bad : {0, -1, 65, 1000, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, 32, 33}) {
    INFO("signal " << bad);
    auto s = weft::signal(bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(weft::Signals::create(std::span<const int>{}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  // A bad member spoils the whole set; the good one was not installed.
  struct sigaction before {};
  REQUIRE(::sigaction(SIGWINCH, nullptr, &before) == 0);
  CHECK_FALSE(weft::Signals::create({SIGWINCH, SIGKILL}).ok());
  struct sigaction after {};
  REQUIRE(::sigaction(SIGWINCH, nullptr, &after) == 0);
  CHECK(after.sa_handler == before.sa_handler);
}

TEST_CASE("weft's handler chains to the previous one and restores it on the last drop") {
  const int sig = SIGRTMIN + 3;
  struct sigaction prev {};
  prev.sa_handler = &previous_handler;
  sigemptyset(&prev.sa_mask);
  REQUIRE(::sigaction(sig, &prev, nullptr) == 0);
  // relaxed: single-threaded reads and writes of the test's counter.
  g_previous_calls.store(0, std::memory_order_relaxed);
  {
    auto a = weft::signal(sig);
    auto b = weft::signal(sig);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    struct sigaction cur {};
    REQUIRE(::sigaction(sig, nullptr, &cur) == 0);
    CHECK(cur.sa_handler != &previous_handler);  // weft's is installed
    REQUIRE(::raise(sig) == 0);
    CHECK(weft::block_on(next_of(&*a)) == sig);
    CHECK(g_previous_calls.load(std::memory_order_relaxed) == 1);  // chained
    { weft::Signals gone = *std::move(a); }                        // b still listens
    REQUIRE(::sigaction(sig, nullptr, &cur) == 0);
    CHECK(cur.sa_handler != &previous_handler);
    REQUIRE(::raise(sig) == 0);
    CHECK(weft::block_on(next_of(&*b)) == sig);
  }
  struct sigaction cur {};
  REQUIRE(::sigaction(sig, nullptr, &cur) == 0);
  CHECK(cur.sa_handler == &previous_handler);  // restored by the last drop
  REQUIRE(::raise(sig) == 0);
  CHECK(g_previous_calls.load(std::memory_order_relaxed) == 3);
  // Listening again installs again, and still chains.
  auto again = weft::signal(sig);
  REQUIRE(again.ok());
  REQUIRE(::raise(sig) == 0);
  CHECK(weft::block_on(next_of(&*again)) == sig);
  CHECK(g_previous_calls.load(std::memory_order_relaxed) == 4);
}

TEST_CASE("a default disposition is restored: the signal is not swallowed forever") {
  const int sig = SIGRTMIN + 4;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  REQUIRE(::sigaction(sig, &dfl, nullptr) == 0);
  { auto s = weft::signal(sig); REQUIRE(s.ok()); }
  struct sigaction cur {};
  REQUIRE(::sigaction(sig, nullptr, &cur) == 0);
  CHECK(cur.sa_handler == SIG_DFL);
}

TEST_CASE("a moved-to Signals keeps listening; the moved-from one owns nothing") {
  auto s = weft::signal(SIGUSR2);
  REQUIRE(s.ok());
  weft::Signals moved = *std::move(s);
  CHECK(moved.contains(SIGUSR2));
  CHECK_FALSE(s->contains(SIGUSR2));  // NOLINT(bugprone-use-after-move): the point
  REQUIRE(::raise(SIGUSR2) == 0);
  CHECK(weft::block_on(next_of(&moved)) == SIGUSR2);
}

TEST_CASE("ping-pong: every signal raised after the previous report is reported (no lost wake-up)") {
  constexpr int kRounds = 2000;
  auto s = weft::signal(SIGUSR1);
  REQUIRE(s.ok());
  std::atomic<int> reported{0};
  std::thread raiser([&] {
    for (int i = 0; i < kRounds; ++i) {
      // acquire: pairs with the task's release store of `reported`.
      while (reported.load(std::memory_order_acquire) < i) std::this_thread::yield();
      ::kill(::getpid(), SIGUSR1);
    }
  });
  auto consume = [](weft::Signals* sigs, std::atomic<int>* reported) -> weft::Task<int> {
    int got = 0;
    for (int i = 0; i < kRounds; ++i) {
      if (co_await sigs->next() == SIGUSR1) ++got;
      // release: pairs with the raiser's acquire load.
      reported->store(i + 1, std::memory_order_release);
    }
    co_return got;
  };
  weft::Executor ex;
  CHECK(ex.run(consume(&*s, &reported)) == kRounds);
  raiser.join();
  CHECK_FALSE(s->try_next().has_value());
}
