// Paused time (reactor/time_control.h): pause, advance, auto-advance,
// resume. Every case pauses on entry and resumes on exit; deadlines are
// computed from weft::time::now(), which keeps an offset from steady_clock
// after a resume. Virtual deadlines are exact, so the checks are equalities;
// real time is only bounded from above, generously (a stall fails, load
// does not).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft::Clock;

namespace {

// Pauses for the scope of a test case; leaves auto-advance off.
struct Paused {
  Paused() { weft::time::pause(); }
  ~Paused() {
    weft::time::set_auto_advance(false);
    weft::time::resume();
  }
};

// A stall of the paused clock (a missed wake-up, a step that never comes)
// fails here; scheduler noise does not come near it.
constexpr auto kRealBound = 10s;

weft::Task<void> sleep_and_flag(Clock::duration d, std::atomic<bool>* flag) {
  co_await weft::sleep_for(d);
  flag->store(true);
}

weft::Task<void> sleep_task(Clock::duration d) { co_await weft::sleep_for(d); }

}  // namespace

TEST_CASE("a 1-hour sleep completes at once under pause + advance", "[time]") {
  Paused paused;
  const auto real_start = std::chrono::steady_clock::now();
  weft::LocalExecutor ex;
  ex.run([](weft::LocalExecutor& ex) -> weft::Task<void> {
    const auto t0 = weft::time::now();
    std::atomic<bool> woke{false};
    auto h = ex.spawn(sleep_and_flag(1h, &woke));
    co_await weft::time::advance(59min);
    CHECK(weft::time::now() - t0 == 59min);
    CHECK_FALSE(woke.load());  // advance by less than the deadline: not fired
    co_await weft::time::advance(1min - 1ms);
    CHECK_FALSE(woke.load());
    co_await weft::time::advance(1ms);
    CHECK(woke.load());  // the sleeping task ran before advance returned
    CHECK(h.is_finished());
    CHECK(weft::time::now() - t0 == 1h);
    co_await std::move(h);
  }(ex));
  CHECK(std::chrono::steady_clock::now() - real_start < kRealBound);
}

TEST_CASE("a paused clock stands still and timers wait for advance", "[time]") {
  Paused paused;
  const auto t0 = weft::time::now();
  CHECK(weft::time::paused());
  weft::Timer t(5ms);
  // Real time passes; the timer must not fire by it. (A liveness-style
  // check: it can only fail if the wall clock leaks in.)
  std::this_thread::sleep_for(20ms);
  CHECK(weft::time::now() == t0);
  weft::block_on(weft::time::advance(4ms).task());
  CHECK_FALSE(t.fired());
  weft::block_on(weft::time::advance(1ms).task());
  CHECK(t.fired());
}

TEST_CASE("timers with shuffled deadlines fire in deadline order, at their deadline", "[time]") {
  Paused paused;
  constexpr int kTimers = 64;
  std::vector<int> ms(kTimers);
  std::iota(ms.begin(), ms.end(), 1);
  std::shuffle(ms.begin(), ms.end(), std::mt19937(12));
  std::vector<int> order;
  std::vector<Clock::duration> lateness;
  weft::LocalExecutor ex;
  ex.run([&]() -> weft::Task<void> {
    const auto t0 = weft::time::now();
    std::vector<weft::JoinHandle<void>> hs;
    for (int d : ms) {
      hs.push_back(ex.spawn([](int d, Clock::time_point t0, std::vector<int>* order,
                               std::vector<Clock::duration>* late) -> weft::Task<void> {
        co_await weft::sleep_until(t0 + std::chrono::milliseconds(d));
        order->push_back(d);
        late->push_back(weft::time::now() - (t0 + std::chrono::milliseconds(d)));
      }(d, t0, &order, &lateness)));
    }
    co_await weft::time::advance(std::chrono::milliseconds(kTimers));
    for (auto& h : hs) co_await std::move(h);
  }());
  REQUIRE(order.size() == kTimers);
  CHECK(std::is_sorted(order.begin(), order.end()));
  // Each task ran at exactly its deadline: time stepped one timer at a time.
  CHECK(std::all_of(lateness.begin(), lateness.end(),
                    [](Clock::duration d) { return d == Clock::duration::zero(); }));
}

TEST_CASE("an Interval ticks exactly k times in advance(k * period)", "[time]") {
  Paused paused;
  std::atomic<int> ticks{0};
  std::atomic<bool> stop{false};
  weft::LocalExecutor ex;
  ex.run([&]() -> weft::Task<void> {
    auto h = ex.spawn([](std::atomic<int>* ticks, std::atomic<bool>* stop) -> weft::Task<void> {
      weft::Interval every(10ms);
      co_await every.tick();  // the first tick is immediate: not counted
      while (!stop->load()) {
        co_await every.tick();
        ticks->fetch_add(1);
      }
    }(&ticks, &stop));
    co_await weft::time::advance(0ms);  // let it start and arm its tick
    CHECK(ticks.load() == 0);
    co_await weft::time::advance(70ms);
    CHECK(ticks.load() == 7);
    co_await weft::time::advance(5ms);
    CHECK(ticks.load() == 7);
    co_await weft::time::advance(5ms);
    CHECK(ticks.load() == 8);
    stop.store(true);
    co_await weft::time::advance(10ms);
    co_await std::move(h);
  }());
}

TEST_CASE("timeout over a channel receive fires on advance and not before", "[time][timeout]") {
  Paused paused;
  weft::Channel<int> ch;
  weft::LocalExecutor ex;
  ex.run([&]() -> weft::Task<void> {
    auto waiter = ex.spawn([](weft::Channel<int>& ch) -> weft::Task<absl::StatusOr<absl::StatusOr<int>>> {
      co_return co_await weft::timeout(1s, ch.recv());
    }(ch));
    co_await weft::time::advance(999ms);
    CHECK_FALSE(waiter.is_finished());
    co_await weft::time::advance(1ms);
    CHECK(waiter.is_finished());
    auto r = co_await std::move(waiter);
    CHECK(absl::IsDeadlineExceeded(r.status()));

    // An item before the deadline wins; advancing past it changes nothing.
    auto second = ex.spawn([](weft::Channel<int>& ch) -> weft::Task<absl::StatusOr<absl::StatusOr<int>>> {
      co_return co_await weft::timeout(1s, ch.recv());
    }(ch));
    co_await weft::time::advance(500ms);
    CHECK_FALSE(second.is_finished());
    REQUIRE(ch.try_send(7).ok());
    co_await weft::time::advance(1s);
    auto r2 = co_await std::move(second);
    REQUIRE(r2.ok());
    REQUIRE(r2->ok());
    CHECK(**r2 == 7);
  }());
}

TEST_CASE("auto-advance finishes a task that sleeps 10 minutes at once", "[time][auto]") {
  Paused paused;
  weft::time::set_auto_advance(true);
  const auto real_start = std::chrono::steady_clock::now();
  const auto t0 = weft::time::now();
  weft::block_on(sleep_task(10min));
  CHECK(weft::time::now() - t0 == 10min);
  CHECK(std::chrono::steady_clock::now() - real_start < kRealBound);
}

// Converted from timer_test.cc ("Interval ticks at its period and skips
// missed ticks"), which waited on the wall clock and could only bound the
// tick times; under auto-advance they are exact.
TEST_CASE("Interval ticks at its period and skips missed ticks (paused)", "[time][auto]") {
  Paused paused;
  weft::time::set_auto_advance(true);
  weft::block_on([]() -> weft::Task<void> {
    const auto start = weft::time::now();
    weft::Interval every(10ms, start);
    auto t0 = co_await every.tick();
    CHECK(t0 == start);  // the first tick is immediate
    CHECK(weft::time::now() == start);
    auto t1 = co_await every.tick();
    CHECK(t1 == start + 10ms);
    CHECK(weft::time::now() == start + 10ms);
    co_await weft::sleep_for(35ms);  // miss three ticks
    CHECK(weft::time::now() == start + 45ms);
    auto t2 = co_await every.tick();
    CHECK(t2 == start + 20ms);  // the late tick itself is delivered once, at once...
    CHECK(weft::time::now() == start + 45ms);
    auto t3 = co_await every.tick();
    CHECK(t3 == start + 50ms);  // ...then the missed ones are skipped
    CHECK(weft::time::now() == start + 50ms);
  }());
}

TEST_CASE("real fd events still wake tasks while time is paused", "[time]") {
  Paused paused;
  auto pair = weft::UnixStream::pair();
  REQUIRE(pair.ok());
  auto& [a, b] = *pair;
  std::thread writer([&b] {
    std::this_thread::sleep_for(20ms);  // the reader is (very likely) waiting by now
    char c = 'x';
    REQUIRE(weft::block_on(b.write_all(&c, 1)).ok());
  });
  const auto real_start = std::chrono::steady_clock::now();
  char got = 0;
  auto n = weft::block_on([](weft::UnixStream& a, char* got) -> weft::Task<absl::StatusOr<size_t>> {
    co_return co_await a.read(got, 1);
  }(a, &got));
  writer.join();
  REQUIRE(n.ok());
  CHECK(*n == 1);
  CHECK(got == 'x');
  CHECK(std::chrono::steady_clock::now() - real_start < kRealBound);
}

TEST_CASE("pause/resume round-trip leaves real-time timers working", "[time]") {
  {
    Paused paused;
    weft::block_on(weft::time::advance(1h).task());
  }
  CHECK_FALSE(weft::time::paused());
  // Time runs again, at the real rate, from where it was paused.
  const auto t0 = weft::time::now();
  const auto real0 = std::chrono::steady_clock::now();
  weft::block_on(sleep_task(30ms));
  const auto slept = weft::time::now() - t0;
  const auto real = std::chrono::steady_clock::now() - real0;
  CHECK(slept >= 30ms);  // never early
  CHECK(real >= 30ms - 1ms);  // the offset is constant: weft time ~ real time
  CHECK(real < kRealBound);
  // A Timer and timeout() on the running clock.
  weft::Timer t(20ms);
  weft::block_on(t.wait().task());
  CHECK(t.fired());
  CHECK(weft::time::now() - t0 >= 50ms);
  // A second round-trip.
  {
    Paused paused;
    const auto p0 = weft::time::now();
    weft::Timer late(1s);
    weft::block_on(weft::time::advance(1s).task());
    CHECK(late.fired());
    CHECK(weft::time::now() - p0 == 1s);
  }
  const auto t1 = weft::time::now();
  weft::block_on(sleep_task(10ms));
  CHECK(weft::time::now() - t1 >= 10ms);
}
