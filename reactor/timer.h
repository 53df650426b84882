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
// pending Timer (or cancelling the task that sleeps) cancels it in O(1)
// without taking a lock; the driver lets go of it on its next turn. Timers
// may be created, reset and awaited from any thread.
//
// Clock: deadlines are on weft's clock (base/clock.h): steady_clock, unless
// a test paused time (reactor/time_control.h: weft::time::pause, advance).
// Compute deadlines for sleep_until / set_at from weft::time::now() (or use
// the *_for / *_after forms) so they stay right when time is paused.
//
// Cost: no heap allocation in steady state. Each armed timer takes an entry
// from a per-thread cache of recycled entries (timer_entry.h); the
// awaitables (Sleep, Timer::Awaiter, Interval::Tick) have no coroutine
// frame. A Timer's own operations take its (uncontended) lock.
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

#include "base/clock.h"
#include "base/deadline.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "reactor/timer_entry.h"

namespace weft {

using Clock = std::chrono::steady_clock;

// A one-shot timer. Awaiting it completes once its current deadline has
// passed; re-arming it (from any thread) while a task awaits it moves that
// task's wait to the new deadline. Awaiting an unarmed Timer completes at once.
// The Timer must outlive an await of it (destroying it wakes the awaiting
// task, which then looks at the Timer again).
class Timer {
 public:
  Timer() noexcept = default;
  explicit Timer(Clock::time_point deadline) { arm_unshared(deadline); }
  template <class Rep, class Period>
  explicit Timer(std::chrono::duration<Rep, Period> after) {
    arm_unshared(detail::deadline_after(after));
  }
  Timer(Timer&& o) noexcept;
  Timer& operator=(Timer&& o) noexcept;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  // No other thread may use a Timer that is being destroyed, so the
  // destructor cancels without the lock.
  ~Timer() {
    if (entry_) disarm_unshared();
  }

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

  class Awaiter;
  // Completes once the current deadline has passed. An awaitable, not a
  // Task: no coroutine frame (write `co_await t.wait()`; it converts to a
  // Task<void> where one is needed).
  Awaiter wait() noexcept;
  Awaiter operator co_await() noexcept;

 private:
  // For the constructors and the destructor: nobody else sees the Timer.
  void arm_unshared(Clock::time_point deadline);
  void disarm_unshared() noexcept;

  // Guards entry_ and deadline_ against set_at / cancel from other threads.
  // A lock, not a lock-free word: an awaiter must take a reference to the
  // current entry while a cancel on another thread may be dropping the
  // Timer's; the lock is what keeps the entry alive in between (timer.cc).
  mutable std::mutex mu_;
  detail::TimerEntry* entry_ = nullptr;  // guarded by mu_; our reference
  Clock::time_point deadline_{};        // guarded by mu_
};

// The awaitable of `co_await timer` and `co_await timer.wait()`: no
// coroutine frame. It registers the task's Waker in the Timer's current
// entry; when the task is woken (the entry fired, or the Timer was
// cancelled), it looks at the Timer again before the coroutine resumes
// (DeferredOp, executor/coop.h), and waits again if the Timer was re-armed
// meanwhile. Immovable: it may hold a reference to an entry.
class Timer::Awaiter {
 public:
  explicit Awaiter(Timer* t) noexcept : timer_(t) {}
  Awaiter(const Awaiter&) = delete;
  Awaiter& operator=(const Awaiter&) = delete;
  ~Awaiter() { release(); }

  // Everything happens in await_suspend, which completes at once (returns
  // false) when the timer has fired or is unarmed.
  bool await_ready() const noexcept { return false; }
  template <detail::WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return coop_.template suspend<&Awaiter::template try_suspend<P>>(this, h);
  }
  void await_resume() {
    release();
    coop_.rethrow_if_failed();
  }

  // A Task that awaits the timer (one frame), where a Task is wanted:
  // block_on(t.wait().task()), when_any over Tasks, spawn.
  operator Task<void>() && { return as_task(timer_); }  // NOLINT: implicit on purpose
  Task<void> task() && { return as_task(timer_); }

 private:
  static Task<void> as_task(Timer* t) { co_await Awaiter(t); }

  // Done (false: fired, unarmed or cancelled), or the Waker registered in
  // the current entry and the re-check armed (true: stay suspended).
  template <detail::WeftPromise P>
  bool try_suspend(std::coroutine_handle<P> h) {
    release();
    if (!register_waker(current_waker(h))) return false;
    coop_.template arm<&Awaiter::template try_suspend<P>>(this, h);
    return true;
  }
  // Registers `w` in the Timer's current pending entry; false if there is
  // none (unarmed, cancelled or fired). timer.cc.
  bool register_waker(Waker w);
  // Drops our reference to the entry we registered in, taking our Waker
  // back if it is still there. timer.cc.
  void release() noexcept;

  Timer* const timer_;
  detail::TimerEntry* entry_ = nullptr;  // registered in; our reference
  detail::DeferredOp coop_;
};
inline Timer::Awaiter Timer::wait() noexcept { return Awaiter(this); }
inline Timer::Awaiter Timer::operator co_await() noexcept { return Awaiter(this); }

// The awaitable of sleep_until / sleep_for: no coroutine frame of its own,
// one timer entry, taken (from the entry cache: timer_entry.h) only if the
// deadline has not passed yet.
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
    return detail::coop_ready([this] { return detail::clock_now() >= deadline_; });
  }
  template <detail::WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if (detail::clock_now() >= deadline_) return detail::coop_yield(h);
    arm(current_waker(h));
    return true;
  }
  void await_resume() const noexcept {}
  Clock::time_point deadline() const noexcept { return deadline_; }

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
  class Tick;
  explicit Interval(Clock::duration period, Clock::time_point start = detail::clock_now());
  // Completes at the next tick and returns its scheduled time. An
  // awaitable, not a Task: no coroutine frame (write `co_await
  // every.tick()`; it converts to a Task<Clock::time_point> where one is
  // needed). The Interval must outlive the await.
  Tick tick() noexcept;
  Clock::duration period() const noexcept { return period_; }

 private:
  // Moves next_ past `scheduled` (the tick that just completed).
  void advance(Clock::time_point scheduled) noexcept;

  Clock::duration period_;
  Clock::time_point next_;
};

// The awaitable of Interval::tick(): a sleep until the scheduled tick.
class [[nodiscard]] Interval::Tick {
 public:
  explicit Tick(Interval* iv) noexcept : interval_(iv), sleep_(iv->next_) {}
  Tick(const Tick&) = delete;
  Tick& operator=(const Tick&) = delete;

  bool await_ready() const noexcept { return sleep_.await_ready(); }
  template <detail::WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return sleep_.await_suspend(h);
  }
  Clock::time_point await_resume() noexcept {
    const Clock::time_point scheduled = sleep_.deadline();
    interval_->advance(scheduled);
    return scheduled;
  }

  // A Task that awaits the tick (one frame), where a Task is wanted.
  operator Task<Clock::time_point>() && { return as_task(interval_); }  // NOLINT: implicit
  Task<Clock::time_point> task() && { return as_task(interval_); }

 private:
  static Task<Clock::time_point> as_task(Interval* iv) { co_return co_await Tick(iv); }

  Interval* const interval_;
  Sleep sleep_;
};
inline Interval::Tick Interval::tick() noexcept { return Tick(this); }

}  // namespace weft

#include "reactor/time_control.h"  // IWYU pragma: export (weft::time)

#endif  // WEFT_REACTOR_TIMER_H_
