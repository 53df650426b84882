#include "base/clock.h"

#include <mutex>

namespace weft::detail {

std::atomic<bool> g_clock_adjusted{false};

namespace {

using SteadyClock = std::chrono::steady_clock;

struct ClockState {
  std::mutex mu;
  bool paused = false;              // guarded by mu
  SteadyClock::time_point frozen;   // guarded by mu; the instant while paused
  SteadyClock::duration offset{0};  // guarded by mu; added to the real clock when running
};

ClockState& state() {
  // Leaked: timers may read the clock from static destructors.
  static ClockState* s = new ClockState();
  return *s;
}

SteadyClock::time_point now_locked(ClockState& s) {
  if (s.paused) return s.frozen;
  // Saturates: a clock advanced to "never" (time_point::max()) stays there.
  SteadyClock::rep sum;
  if (__builtin_add_overflow(SteadyClock::now().time_since_epoch().count(), s.offset.count(), &sum)) {
    return s.offset.count() > 0 ? SteadyClock::time_point::max() : SteadyClock::time_point::min();
  }
  return SteadyClock::time_point(SteadyClock::duration(sum));
}

}  // namespace

SteadyClock::time_point adjusted_clock_now() noexcept {
  ClockState& s = state();
  std::lock_guard<std::mutex> l(s.mu);
  return now_locked(s);
}

bool clock_paused() noexcept {
  // relaxed: see clock_now().
  if (!g_clock_adjusted.load(std::memory_order_relaxed)) return false;
  ClockState& s = state();
  std::lock_guard<std::mutex> l(s.mu);
  return s.paused;
}

bool clock_pause() noexcept {
  ClockState& s = state();
  std::lock_guard<std::mutex> l(s.mu);
  if (s.paused) return false;
  s.frozen = now_locked(s);
  s.paused = true;
  // release: pairs with the relaxed load in clock_now() (which then takes
  // the mutex, the real synchronization).
  g_clock_adjusted.store(true, std::memory_order_release);
  return true;
}

bool clock_resume() noexcept {
  ClockState& s = state();
  std::lock_guard<std::mutex> l(s.mu);
  if (!s.paused) return false;
  // Continue from the frozen instant: now() == frozen at this moment.
  s.offset = s.frozen - SteadyClock::now();
  s.paused = false;
  return true;
}

bool clock_advance_to(SteadyClock::time_point t) noexcept {
  ClockState& s = state();
  std::lock_guard<std::mutex> l(s.mu);
  if (!s.paused) return false;
  if (t > s.frozen) s.frozen = t;
  return true;
}

}  // namespace weft::detail
