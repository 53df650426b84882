// Shared by the timer tests: waiting until the reactor's wheel holds a
// given number of timers (cancellations are applied by the driver thread on
// its next turn, so a test that cancels must wait to observe them).
#ifndef WEFT_TESTS_TIMER_TEST_UTIL_H_
#define WEFT_TESTS_TIMER_TEST_UTIL_H_

#include <chrono>
#include <cstddef>

#include "executor/task.h"
#include "reactor/reactor.h"
#include "reactor/timer.h"

namespace weft_test {

// Waits (bounded: 5 s) until the reactor's wheel holds `n` timers.
inline weft::Task<bool> wheel_reaches(size_t n) {
  using Clock = std::chrono::steady_clock;
  auto& r = weft::detail::Reactor::get();
  auto give_up = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < give_up) {
    r.wake();
    if (r.timers_in_wheel() == n) co_return true;
    co_await weft::sleep_for(std::chrono::milliseconds(1));
    if (r.timers_in_wheel() == n) co_return true;
  }
  co_return false;
}

}  // namespace weft_test

#endif  // WEFT_TESTS_TIMER_TEST_UTIL_H_
