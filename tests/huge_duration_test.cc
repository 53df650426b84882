// Issue #14: huge durations ("no timeout" written as duration::max()) must
// mean "never", not wrap around into the past and fire at once; negative
// durations fire at once. Each far timer stays pending for a short bound,
// then cancels cleanly (the reactor's wheel empties again).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>

#include "reactor/reactor.h"
#include "test_util.h"
#include "timer_test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft::Clock;

namespace {
// How long a far timer must stay pending. Short: the bug fires at 0 ms.
constexpr auto kPendingFor = 200ms;
constexpr auto kSlack = 5s;

// The durations that used to overflow `now + d`: max() itself, one that
// overflows only once converted to nanoseconds (1000 years in hours), and
// a coarse max() that overflows in the conversion already.
const Clock::duration kMax = Clock::duration::max();
const auto kMillennium = std::chrono::hours(24 * 365 * 1000);
const auto kHoursMax = std::chrono::hours::max();

using weft_test::wheel_reaches;

template <class D>
weft::Task<void> sleep_counted(D d, std::atomic<int>* live, std::atomic<int>* destroyed) {
  weft_test::Counted c(live, destroyed);
  co_await weft::sleep_for(d);
}

// `sleep_for(d)` under a short timeout: the timeout must win, the sleep be
// cancelled (frame destroyed) and its timer leave the wheel.
template <class D>
void check_sleep_stays_pending(D d) {
  std::atomic<int> live{0}, destroyed{0};
  const auto start = Clock::now();
  absl::Status st = weft::block_on(weft::timeout(kPendingFor, sleep_counted(d, &live, &destroyed)));
  const auto took = Clock::now() - start;
  CHECK(absl::IsDeadlineExceeded(st));
  CHECK(took >= kPendingFor);
  CHECK(took < kPendingFor + kSlack);
  CHECK(live == 0);
  CHECK(destroyed == 1);
  CHECK(weft::block_on(wheel_reaches(0)));
}

template <class D>
void check_timer_stays_pending(D d) {
  weft::Timer t;
  t.set_after(d);
  auto winner = weft::block_on(weft::when_any(t.wait().task(), [] {
    return [](auto) -> weft::Task<void> { co_await weft::sleep_for(kPendingFor); }(0);
  }()));
  CHECK(winner.index() == 1);
  CHECK_FALSE(t.fired());
  CHECK(t.deadline() > Clock::now() + 24h * 365);
  t.cancel();
  CHECK_FALSE(t.fired());
  CHECK(weft::block_on(wheel_reaches(0)));
}

// timeout(d, task) around a task that never finishes (within the test),
// raced against a short sleep: the sleep must win, not the huge timeout.
template <class D>
void check_timeout_stays_pending(D d) {
  std::atomic<int> live{0}, destroyed{0};
  const auto start = Clock::now();
  auto winner = weft::block_on(weft::when_any(
      weft::timeout(d, sleep_counted(1h, &live, &destroyed)),
      [](auto) -> weft::Task<void> { co_await weft::sleep_for(kPendingFor); }(0)));
  const auto took = Clock::now() - start;
  CHECK(winner.index() == 1);
  CHECK(took >= kPendingFor);
  CHECK(took < kPendingFor + kSlack);
  CHECK(live == 0);  // the timeout (and the task in it) was cancelled
  CHECK(destroyed == 1);
  CHECK(weft::block_on(wheel_reaches(0)));
}

weft::Task<int> value_after(Clock::duration d, int v) {
  co_await weft::sleep_for(d);
  co_return v;
}
}  // namespace

TEST_CASE("sleep_for(huge) stays pending and cancels cleanly", "[timer][issue14]") {
  SECTION("duration::max()") { check_sleep_stays_pending(kMax); }
  SECTION("1000 years in hours") { check_sleep_stays_pending(kMillennium); }
  SECTION("hours::max()") { check_sleep_stays_pending(kHoursMax); }
}

TEST_CASE("Timer::set_after(huge) stays pending and cancels cleanly", "[timer][issue14]") {
  SECTION("duration::max()") { check_timer_stays_pending(kMax); }
  SECTION("1000 years in hours") { check_timer_stays_pending(kMillennium); }
  SECTION("hours::max()") { check_timer_stays_pending(kHoursMax); }
}

TEST_CASE("timeout(huge, task) does not fire", "[timeout][issue14]") {
  SECTION("duration::max()") { check_timeout_stays_pending(kMax); }
  SECTION("1000 years in hours") { check_timeout_stays_pending(kMillennium); }
  SECTION("hours::max()") { check_timeout_stays_pending(kHoursMax); }
}

TEST_CASE("timeout(huge, task) returns the task's result", "[timeout][issue14]") {
  auto r = weft::block_on(weft::timeout(kMax, value_after(5ms, 42)));
  REQUIRE(r.ok());
  CHECK(*r == 42);
  auto r2 = weft::block_on(weft::timeout(kMillennium, value_after(5ms, 7)));
  REQUIRE(r2.ok());
  CHECK(*r2 == 7);
  CHECK(weft::block_on(wheel_reaches(0)));
}

TEST_CASE("sleep_until(time_point::max()) stays pending", "[timer][issue14]") {
  auto winner = weft::block_on(weft::when_any(
      [](auto) -> weft::Task<void> { co_await weft::sleep_until(Clock::time_point::max()); }(0),
      [](auto) -> weft::Task<void> { co_await weft::sleep_for(kPendingFor); }(0)));
  CHECK(winner.index() == 1);
  CHECK(weft::block_on(wheel_reaches(0)));
}

TEST_CASE("negative durations and duration::min() fire at once", "[timer][issue14]") {
  for (Clock::duration d : {Clock::duration(-1), Clock::duration(-1'000'000'000),
                            Clock::duration::min()}) {
    const auto start = Clock::now();
    weft::block_on([](Clock::duration d) -> weft::Task<void> { co_await weft::sleep_for(d); }(d));
    weft::Timer t;
    t.set_after(d);
    CHECK(t.deadline() <= Clock::now());
    weft::block_on(t.wait().task());
    auto r = weft::block_on(weft::timeout(d, value_after(1h, 1)));
    CHECK(absl::IsDeadlineExceeded(r.status()));
    CHECK(Clock::now() - start < kSlack);
  }
  // A coarse negative duration that overflows in the nanosecond conversion.
  const auto start = Clock::now();
  weft::block_on([]() -> weft::Task<void> { co_await weft::sleep_for(std::chrono::hours::min()); }());
  CHECK(Clock::now() - start < kSlack);
}

TEST_CASE("Interval with a huge period ticks once, then stays pending", "[timer][issue14]") {
  weft::Interval every(kMax);
  auto winner = weft::block_on([](weft::Interval* every) -> weft::Task<int> {
    co_await every->tick();  // the first tick is at once
    auto w = co_await weft::when_any(every->tick(), [](auto) -> weft::Task<void> {
      co_await weft::sleep_for(kPendingFor);
    }(0));
    co_return static_cast<int>(w.index());
  }(&every));
  CHECK(winner == 1);
  CHECK(weft::block_on(wheel_reaches(0)));
}

TEST_CASE("the reactor's millisecond conversion saturates", "[timer][issue14]") {
  auto& r = weft::detail::Reactor::get();
  const uint64_t far = r.to_deadline_ms(Clock::time_point::max());
  CHECK(far > r.to_deadline_ms(Clock::now() + 24h * 365 * 100));
  CHECK(r.to_deadline_ms(Clock::time_point::min()) == 0);
  // Back from milliseconds: no wrap into the past.
  CHECK(r.from_ms(far) >= Clock::now() + 24h * 365 * 100);
  CHECK(r.from_ms(std::numeric_limits<uint64_t>::max()) == Clock::time_point::max());
}
