// The clock every weft deadline reads: steady_clock, unless a test paused
// time (reactor/time_control.h: weft::time::pause / advance / resume).
//
// What it is for: one clock source behind deadline_after, Sleep, Timer,
// Interval, timeout and the reactor's timer wheel, so a test can stop time
// and move it by hand instead of waiting on the wall clock.
//
// Guarantees:
// - Never paused in this process: clock_now() is steady_clock::now() after
//   one relaxed load of a flag. Nothing else on the hot path.
// - Paused: clock_now() is the frozen instant; only clock_advance_to moves
//   it (forward only).
// - Resumed: time runs again at the real rate from the instant it was
//   frozen at (as tokio's resume does), so clock_now() keeps a constant
//   offset from steady_clock::now() from then on. It is monotonic
//   throughout: pause, advance and resume never move it backwards.
// - Thread-safe. The state behind the flag is guarded by a mutex: only
//   processes that paused time ever take it.
//
// Example:
//   auto deadline = weft::detail::clock_now() + std::chrono::seconds(1);
#ifndef WEFT_BASE_CLOCK_H_
#define WEFT_BASE_CLOCK_H_

#include <atomic>
#include <chrono>

namespace weft::detail {

// Set once, the first time time is paused, and never cleared: from then on
// clock_now() takes the slow path (a paused or offset clock).
extern std::atomic<bool> g_clock_adjusted;

// The slow path of clock_now() (base/clock.cc).
std::chrono::steady_clock::time_point adjusted_clock_now() noexcept;

inline std::chrono::steady_clock::time_point clock_now() noexcept {
  // relaxed: pairs with the release store in clock_pause(). A thread that
  // still reads false just after another paused reads the real clock, a
  // value at most the frozen instant plus the time since the pause; any
  // thread that synchronized with the pausing thread afterwards (a task it
  // spawned, a message it sent) reads true.
  if (!g_clock_adjusted.load(std::memory_order_relaxed)) [[likely]] {
    return std::chrono::steady_clock::now();
  }
  return adjusted_clock_now();
}

// Whether time is paused now (one relaxed load when it never was).
bool clock_paused() noexcept;
// Freezes the clock at clock_now(); no-op if paused. Returns whether this
// call paused it.
bool clock_pause() noexcept;
// Lets time run again from the frozen instant; no-op if not paused.
// Returns whether this call resumed it.
bool clock_resume() noexcept;
// While paused, moves the frozen instant forward to `t` (never back);
// returns false, doing nothing, when not paused.
bool clock_advance_to(std::chrono::steady_clock::time_point t) noexcept;

}  // namespace weft::detail

#endif  // WEFT_BASE_CLOCK_H_
