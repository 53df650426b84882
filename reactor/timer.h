// Timers: sleep_for, sleep_until, Timer and Interval, driven by the global
// reactor's timer wheel.
//
// What it is for: waiting for a point in time inside a task, under any
// executor (the wake-up goes through the task's Waker).
//
// Guarantees: a timer never fires before its deadline (deadlines round up
// to the reactor's 1 ms resolution); it fires within a few ms after, load
// permitting. Durations of any type are accepted and saturate
// (base/deadline.h): a deadline beyond the clock's range, such as
// duration::max() for "never", is time_point::max() and stays pending until
// cancelled; a negative duration (down to duration::min()) is due at once.
// Order: the reactor wakes expired timers in deadline order at that 1 ms
// resolution: of two timers armed before the earlier deadline passed, the
// one whose deadline falls in an earlier millisecond has its waiting task's
// wake() called first (timers in the same millisecond: any order). That is
// the order of wake() calls, not of task runs: tasks woken close together
// run in the order their executor picks them (a LIFO slot, stealing,
// several workers), so a later timer's task may run first. Destroying a
// pending Timer (or cancelling the task that
// sleeps) cancels it in O(1) without taking a lock; the driver frees it on
// its next turn. Timers may be created, reset and awaited from any thread.
//
// Example:
//   co_await weft::sleep_for(std::chrono::milliseconds(10));
//   weft::Timer t(std::chrono::seconds(1));   // armed
//   t.set_after(std::chrono::milliseconds(5)); // re-armed while pending
//   co_await t;
//   weft::Interval every(std::chrono::milliseconds(100));
//   for (;;) { co_await every.tick(); work(); }
#ifndef WEFT_REACTOR_TIMER_H_
#define WEFT_REACTOR_TIMER_H_

#include <chrono>
#include <coroutine>
#include <mutex>
#include <utility>

#include "base/deadline.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "reactor/timer_entry.h"

namespace weft {

using Clock = std::chrono::steady_clock;

// A one-shot timer. Awaiting it completes once its current deadline has
// passed; re-arming it (from any thread) while a task awaits it moves that
// task's wait to the new deadline. Awaiting an unarmed Timer completes at once.
class Timer {
 public:
  Timer() noexcept = default;
  explicit Timer(Clock::time_point deadline) { set_at(deadline); }
  template <class Rep, class Period>
  explicit Timer(std::chrono::duration<Rep, Period> after) {
    set_after(after);
  }
  Timer(Timer&& o) noexcept;
  Timer& operator=(Timer&& o) noexcept;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { cancel(); }

  void set_at(Clock::time_point deadline);
  // Saturates: see the header.
  template <class Rep, class Period>
  void set_after(std::chrono::duration<Rep, Period> after) {
    set_at(detail::deadline_after(after));
  }
  // Same as set_at (tokio's name).
  void reset(Clock::time_point deadline) { set_at(deadline); }
  // Disarms; a task awaiting it is woken and its await completes.
  void cancel() noexcept;
  // Whether the current deadline has passed (false when unarmed).
  bool fired() const noexcept;
  Clock::time_point deadline() const noexcept;

  // Completes once the current deadline has passed.
  Task<void> wait();

  class Awaiter;
  Awaiter operator co_await();

 private:
  struct EntryWait;
  // Guards entry_ and deadline_ against set_at / cancel from other threads.
  mutable std::mutex mu_;
  detail::TimerEntry* entry_ = nullptr;  // guarded by mu_; our reference
  Clock::time_point deadline_{};        // guarded by mu_
};

// The awaitable of `co_await timer`: runs Timer::wait() as a child task.
class Timer::Awaiter {
 public:
  explicit Awaiter(Task<void> t) : task_(std::move(t)), inner_(task_.operator co_await()) {}
  bool await_ready() const { return inner_.await_ready(); }
  template <detail::WeftPromise P>
  void await_suspend(std::coroutine_handle<P> h) noexcept { inner_.await_suspend(h); }
  void await_resume() { inner_.await_resume(); }

 private:
  Task<void> task_;
  Task<void>::Awaiter inner_;
};
inline Timer::Awaiter Timer::operator co_await() { return Awaiter(wait()); }

// The awaitable of sleep_until / sleep_for: no coroutine frame of its own,
// one timer entry, allocated only if the deadline has not passed yet.
// Destroying it before it fired (the sleeping task was cancelled) cancels
// the timer.
class [[nodiscard]] Sleep {
 public:
  explicit Sleep(Clock::time_point deadline) noexcept : deadline_(deadline) {}
  Sleep(Sleep&& o) noexcept : deadline_(o.deadline_), entry_(std::exchange(o.entry_, nullptr)) {}
  Sleep& operator=(Sleep&&) = delete;
  ~Sleep();

  // A deadline already past completes at once and counts against the
  // cooperative budget (executor/coop.h); with none left, the sleep yields
  // once instead.
  bool await_ready() const noexcept {
    return detail::coop_ready([this] { return Clock::now() >= deadline_; });
  }
  template <detail::WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if (Clock::now() >= deadline_) return detail::coop_yield(h);
    arm(current_waker(h));
    return true;
  }
  void await_resume() const noexcept {}

 private:
  void arm(Waker w);
  Clock::time_point deadline_;
  detail::TimerEntry* entry_ = nullptr;  // our reference, once armed
};

// Sleeps until `deadline` / for `d` (saturating: see the header).
inline Sleep sleep_until(Clock::time_point deadline) noexcept { return Sleep(deadline); }
template <class Rep, class Period>
Sleep sleep_for(std::chrono::duration<Rep, Period> d) noexcept {
  return Sleep(detail::deadline_after(d));
}

// Ticks at a fixed period. The first tick completes at once (at creation
// time, as tokio's interval does). Missed ticks are skipped: if a tick is
// awaited late by more than one period, the next deadline is the first
// multiple of the period after now, so a slow consumer is not fed a burst
// of catch-up ticks.
class Interval {
 public:
  explicit Interval(Clock::duration period, Clock::time_point start = Clock::now());
  // Completes at the next tick and returns its scheduled time.
  Task<Clock::time_point> tick();
  Clock::duration period() const noexcept { return period_; }

 private:
  Clock::duration period_;
  Clock::time_point next_;
};

}  // namespace weft

#endif  // WEFT_REACTOR_TIMER_H_
