// Internals shared by the reactor's source files (reactor.cc: registration
// and timers; driver.cc: the driver thread; io_poll.cc: polling and the
// watcher). Not part of the API.
#ifndef WEFT_REACTOR_REACTOR_INTERNAL_H_
#define WEFT_REACTOR_REACTOR_INTERNAL_H_

#include <chrono>
#include <cstdint>
#include <limits>

#include "reactor/reactor.h"

namespace weft {
namespace detail {

// Tokens in the driver's and the watcher's epoll sets; no slab index
// reaches them.
constexpr uint64_t kWakeToken = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kIoToken = kWakeToken - 1;
constexpr uint64_t kAlarmToken = kWakeToken - 2;
// How often the driver checks on awake task threads (polls I/O for them if
// none polled, and runs the executors' watchdog). An event then becomes a
// wake() within two intervals, 1 ms, whatever tasks do; the cost is one
// driver wake-up per interval (~2,000/s, each a few microseconds of the
// otherwise idle driver thread) while the runtime is active.
constexpr auto kCheckInterval = std::chrono::microseconds(500);
// How long the driver keeps checking after the last sign of activity (a
// task thread awake or polling), before it sleeps until a thread wakes. A
// thread that wakes while the driver sleeps must get it up (an alarm: one
// timerfd_settime); on these VMs arming a timer on a CPU that idles costs
// the woken thread ~10 us (idle_rtt, 10 ms gaps: p50 22 us against 12 us
// without). Lingering keeps that off every wake of a runtime that serves
// traffic; a runtime idle for longer than this costs nothing.
constexpr auto kLinger = std::chrono::milliseconds(50);
// Events fetched per epoll_wait: enough to drain a busy turn in one call.
constexpr int kMaxEvents = 256;
// The reactor, once constructed (for the static hooks).
Reactor* reactor_for_hooks() noexcept;

// Reports a failed system call that leaves the reactor unusable, and aborts.
[[noreturn]] void die(const char* what);

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_REACTOR_INTERNAL_H_
