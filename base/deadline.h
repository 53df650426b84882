// Deadlines that cannot overflow: `now + d` for any duration, clamped to
// the clock's range.
//
// What it is for: every place in weft that turns a caller's duration into a
// deadline (sleep_for, Timer::set_after, timeout, Interval, the blocking
// pool's idle timeout). `Clock::now() + d` is signed integer overflow, that
// is undefined behaviour, for a large d: in practice duration::max() (the
// common spelling of "no timeout") wrapped to a deadline in the past and
// fired at once. Converting a coarse duration to nanoseconds overflows too:
// std::chrono::hours(24 * 365 * 1000) does not fit in steady_clock's
// nanoseconds, so the helpers take any duration type and convert it here.
//
// Guarantees:
// - saturating_duration_cast<To>(d): d in To's units, clamped to
//   [To::min(), To::max()]; a floating-point NaN becomes zero. Truncates
//   toward zero like duration_cast when the value is in range.
// - saturating_add(t, d): t + d, clamped to [time_point::min(),
//   time_point::max()]. So a huge d gives a deadline that never comes
//   (time_point::max()), and a negative one a deadline in the past, which
//   fires at once (as in tokio).
// - deadline_after(d): saturating_add(clock_now(), d): weft's clock
//   (base/clock.h), which is steady_clock unless a test paused time
//   (reactor/time_control.h). Use it for deadlines that weft's timers
//   wait on.
// - real_deadline_after(d): saturating_add(steady_clock::now(), d), for a
//   deadline a thread waits on outside the reactor (a condition variable),
//   which must keep following the real clock while time is paused.
//
// Example:
//   auto deadline = weft::detail::deadline_after(std::chrono::hours::max());
//   // deadline == steady_clock::time_point::max(): "never"
#ifndef WEFT_BASE_DEADLINE_H_
#define WEFT_BASE_DEADLINE_H_

#include <chrono>
#include <ratio>
#include <type_traits>

#include "base/clock.h"

namespace weft::detail {

template <class To, class Rep, class Period>
constexpr To saturating_duration_cast(std::chrono::duration<Rep, Period> d) noexcept {
  static_assert(std::is_integral_v<typename To::rep>, "To is an integer duration");
  if constexpr (std::is_floating_point_v<Rep>) {
    if (d.count() != d.count()) return To::zero();  // NaN
  }
  // The range check in long double: its 64-bit mantissa holds every int64
  // exactly, and its range every duration a program can spell.
  using Wide = std::chrono::duration<long double, typename To::period>;
  const long double wide = std::chrono::duration_cast<Wide>(d).count();
  if (wide >= static_cast<long double>(To::max().count())) return To::max();
  if (wide <= static_cast<long double>(To::min().count())) return To::min();
  // In range. duration_cast multiplies before it divides, which can overflow
  // for an odd ratio (1/3 s to ns) even when the result fits: take the wide
  // value then. For whole multiples and divisions it is exact.
  using Factor = std::ratio_divide<Period, typename To::period>;
  if constexpr (std::is_floating_point_v<Rep> || Factor::num == 1 || Factor::den == 1) {
    return std::chrono::duration_cast<To>(d);
  } else {
    return To(static_cast<typename To::rep>(wide));
  }
}

template <class C, class D, class Rep, class Period>
constexpr std::chrono::time_point<C, D> saturating_add(std::chrono::time_point<C, D> t,
                                                       std::chrono::duration<Rep, Period> d) noexcept {
  using TimePoint = std::chrono::time_point<C, D>;
  const D by = saturating_duration_cast<D>(d);
  typename D::rep sum;
  if (__builtin_add_overflow(t.time_since_epoch().count(), by.count(), &sum)) {
    return by.count() > 0 ? TimePoint::max() : TimePoint::min();
  }
  return TimePoint(D(sum));
}

template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
  return saturating_add(clock_now(), d);
}

template <class Rep, class Period>
std::chrono::steady_clock::time_point real_deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
  return saturating_add(std::chrono::steady_clock::now(), d);
}

}  // namespace weft::detail

#endif  // WEFT_BASE_DEADLINE_H_
