// Paused time for tests: weft::time::pause / advance / resume / now, and
// auto-advance (tokio's time::pause, advance and auto-advance).
//
// What it is for: testing code that waits on timers (sleep_for, Timer,
// Interval, timeout) without waiting on the wall clock: a test stops the
// clock every weft deadline reads (base/clock.h) and moves it by hand, so a
// one-hour timeout fires at once, deterministically.
//
// Requires: time is paused before advance() is awaited (advance on a running
// clock is a misuse and aborts with a message). advance() is an awaitable:
// await it inside a task, or `weft::block_on(weft::time::advance(d))` on a
// plain thread.
//
// Guarantees:
// - pause(): weft::time::now() stops, on a whole millisecond of the
//   reactor's time base (so whole-millisecond durations give deadlines the
//   1 ms timer wheel holds exactly). Timers no longer fire by the wall
//   clock. Real fd events are unaffected (the reactor's 1 ms liveness
//   bound still holds: it runs on the real clock).
// - co_await advance(d): moves now() forward by d in steps, one per timer
//   deadline up to now()+d, in deadline order; at each step the timers due
//   are woken in deadline order, and the next step waits until the runtime
//   has settled: every woken task took its wake (resumed past its await)
//   and every task thread is idle. So a task that re-arms a timer after a
//   tick (an Interval loop, a chain of sleeps) gets its next deadline in
//   before time moves past it: an Interval ticks exactly k times in
//   advance(k * period). The await completes once now() is now()+d and the
//   runtime has settled again.
// - resume(): time runs again at the real rate from the paused instant
//   (as in tokio), so weft::time::now() keeps a fixed offset from
//   steady_clock::now() afterwards: compute deadlines from weft::time::now()
//   or use sleep_for / set_after / timeout. Pending advances complete.
// - set_auto_advance(true): while paused, whenever the runtime is settled
//   (as above) and a timer is pending, the clock jumps to the next
//   deadline, so a task that sleeps 10 minutes finishes at once. Off by
//   default, unlike tokio: weft's tasks run on threads it does not own and
//   may wait on things the reactor cannot see (blocking-pool jobs, another
//   process, a thread that is not a task thread), so "settled" is only
//   "no task thread awake and no timer wake in flight". A jump while such a
//   wait is still coming would fire a timeout that real time would not:
//   turn it on in tests that wait only on timers.
// - Never paused: the cost is one relaxed load of a flag per clock read;
//   no syscall, no lock.
// Limits: "settled" counts task threads (Executor workers, LocalExecutor,
// block_on) and timer wakes. A task that a timer-woken task wakes on
// another thread, in the instant before that thread is counted awake, can
// be overtaken by the next step; on one thread (block_on, LocalExecutor)
// this cannot happen. advance() waits for busy task threads to go idle.
//
// Example (tests/time_control_test.cc):
//   weft::time::pause();
//   ex.run([&]() -> weft::Task<void> {
//     auto slept = ex.spawn(sleep_then_flag(1h));  // a LocalExecutor ex
//     co_await weft::time::advance(std::chrono::hours(1));  // fires it
//   }());
//   weft::time::resume();
#ifndef WEFT_REACTOR_TIME_CONTROL_H_
#define WEFT_REACTOR_TIME_CONTROL_H_

#include <chrono>
#include <coroutine>

#include "base/clock.h"
#include "base/deadline.h"
#include "executor/task.h"
#include "executor/waker.h"

namespace weft {
namespace detail {
class Reactor;
}  // namespace detail

namespace time {

// weft's clock: steady_clock::now() unless time was paused in this process.
inline std::chrono::steady_clock::time_point now() noexcept { return detail::clock_now(); }
// Stops the clock (no-op if stopped).
void pause();
// Lets it run again from the paused instant (no-op if running).
void resume();
bool paused() noexcept;
// Auto-advance while paused (see the header); off by default.
void set_auto_advance(bool on) noexcept;

// The awaitable of advance(d). Immovable; destroying it while pending (the
// awaiting task was cancelled) withdraws the request.
class [[nodiscard]] Advance {
 public:
  explicit Advance(std::chrono::nanoseconds by) noexcept : by_(by) {}
  Advance(const Advance&) = delete;
  Advance& operator=(const Advance&) = delete;
  ~Advance();

  bool await_ready() const noexcept { return false; }
  template <detail::WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    submit(current_waker(h));
    return true;
  }
  void await_resume() noexcept { settle(); }

  // A Task that awaits the advance, where a Task is wanted (block_on).
  operator Task<void>() && { return as_task(by_); }  // NOLINT: implicit on purpose
  Task<void> task() && { return as_task(by_); }

 private:
  friend class detail::Reactor;
  friend void resume();
  static Task<void> as_task(std::chrono::nanoseconds by) { co_await Advance(by); }
  void submit(Waker w);  // time_control.cc
  void settle() noexcept;

  const std::chrono::nanoseconds by_;
  // The rest is guarded by the requests' lock (time_control.cc).
  std::chrono::steady_clock::time_point target_{};
  Waker waker_;
  Advance* next_ = nullptr;
  Advance* prev_ = nullptr;
  bool linked_ = false;
  bool unsettled_ = false;  // completed; its wake not taken yet
};

// Moves paused time forward by d (saturating; a negative d counts as zero
// but still lets timers already due fire and the runtime settle).
template <class Rep, class Period>
Advance advance(std::chrono::duration<Rep, Period> d) noexcept {
  return Advance(detail::saturating_duration_cast<std::chrono::nanoseconds>(d));
}

}  // namespace time
}  // namespace weft

#endif  // WEFT_REACTOR_TIME_CONTROL_H_
