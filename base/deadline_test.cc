// saturating_duration_cast / saturating_add / deadline_after: clamped at both
// ends, exact in between, with a fixed time point standing in for the clock.
#include "base/deadline.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <limits>

using namespace std::chrono_literals;
using weft::detail::deadline_after;
using weft::detail::saturating_add;
using weft::detail::saturating_duration_cast;
using ns = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

TEST_CASE("saturating_duration_cast clamps what does not fit and keeps what does", "[deadline]") {
  CHECK(saturating_duration_cast<ns>(ns::max()) == ns::max());
  CHECK(saturating_duration_cast<ns>(ns::min()) == ns::min());
  CHECK(saturating_duration_cast<ns>(std::chrono::hours::max()) == ns::max());
  CHECK(saturating_duration_cast<ns>(std::chrono::hours::min()) == ns::min());
  CHECK(saturating_duration_cast<ns>(std::chrono::hours(24 * 365 * 1000)) == ns::max());
  CHECK(saturating_duration_cast<ns>(std::chrono::hours(-24 * 365 * 1000)) == ns::min());
  CHECK(saturating_duration_cast<ns>(std::chrono::hours(2)) == ns(7'200'000'000'000));
  CHECK(saturating_duration_cast<ns>(1500us) == ns(1'500'000));
  CHECK(saturating_duration_cast<ns>(-3ms) == ns(-3'000'000));
  CHECK(saturating_duration_cast<ns>(std::chrono::duration<long long, std::pico>(2'500)) ==
        ns(2));
  // An odd ratio whose direct duration_cast would overflow in its multiply.
  using thirds = std::chrono::duration<long long, std::ratio<1, 3>>;
  CHECK(saturating_duration_cast<ns>(thirds(27'000'000'000)) == ns(9'000'000'000'000'000'000));
  CHECK(saturating_duration_cast<ns>(std::chrono::duration<double>(1e300)) == ns::max());
  CHECK(saturating_duration_cast<ns>(std::chrono::duration<double>(-1e300)) == ns::min());
  CHECK(saturating_duration_cast<ns>(std::chrono::duration<double>(0.25)) == ns(250'000'000));
  CHECK(saturating_duration_cast<ns>(std::chrono::duration<double>(
            std::numeric_limits<double>::infinity())) == ns::max());
  CHECK(saturating_duration_cast<ns>(std::chrono::duration<double>(
            std::numeric_limits<double>::quiet_NaN())) == ns::zero());
}

TEST_CASE("saturating_add clamps to the time point's range", "[deadline]") {
  const TimePoint t(ns(1'000'000'000'000));  // a steady clock ~17 min after boot
  CHECK(saturating_add(t, ns::max()) == TimePoint::max());
  CHECK(saturating_add(t, std::chrono::hours::max()) == TimePoint::max());
  CHECK(saturating_add(t, std::chrono::hours(24 * 365 * 1000)) == TimePoint::max());
  CHECK(saturating_add(t, 5ms) == t + 5ms);
  CHECK(saturating_add(t, -5ms) == t - 5ms);
  CHECK(saturating_add(t, ns::zero()) == t);
  // Negative: the past (fires at once). t + min() itself does not overflow
  // for a positive t; from a negative t it would.
  CHECK(saturating_add(t, ns::min()) == t + ns::min());
  const TimePoint before_epoch(ns(-1'000));
  CHECK(saturating_add(before_epoch, ns::min()) == TimePoint::min());
  CHECK(saturating_add(TimePoint::max(), 1ns) == TimePoint::max());
  CHECK(saturating_add(TimePoint::min(), -1ns) == TimePoint::min());
}

TEST_CASE("deadline_after: now + d, never wrapped into the past", "[deadline]") {
  const auto before = std::chrono::steady_clock::now();
  CHECK(deadline_after(ns::max()) == TimePoint::max());
  CHECK(deadline_after(std::chrono::hours(24 * 365 * 1000)) == TimePoint::max());
  const auto soon = deadline_after(10ms);
  CHECK(soon >= before + 10ms);
  CHECK(deadline_after(-10ms) < std::chrono::steady_clock::now());
  CHECK(deadline_after(ns::min()) < before);
}
