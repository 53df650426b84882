// The reactor's counters behind ReactorMetrics (reactor/metrics.h). Not
// part of the API.
//
// Every block has one writer at a time, which counts with a relaxed load
// and store (no read-modify-write): the driver thread its own block, the
// watcher the watcher's block (the watcher role's acquire CAS and release
// store, reactor/io_poll.cc, hand it from one watcher to the next), a task
// thread its thread-local block (task_poll_counters()). Readers load
// relaxed. The counters order nothing: no protocol reads them.
#ifndef WEFT_REACTOR_METRICS_COUNTERS_H_
#define WEFT_REACTOR_METRICS_COUNTERS_H_

#include <atomic>
#include <cstdint>

namespace weft {
namespace detail {

// relaxed: a statistic with one writer (see the file comment).
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline uint64_t count_of(const std::atomic<uint64_t>& c) noexcept {
  return c.load(std::memory_order_relaxed);  // relaxed: a statistic
}

// What one poller did: epoll_wait calls on the I/O set, the fd events they
// returned, and the tasks those woke.
struct alignas(64) PollCounters {
  std::atomic<uint64_t> polls{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> wakes{0};
};

// The watcher's block: its waits, and those an interrupt ended.
struct alignas(64) WatcherCounters {
  PollCounters poll;
  std::atomic<uint64_t> interrupts{0};
};

// The driver's block (driver thread only).
struct alignas(64) DriverCounters {
  PollCounters poll;  // both kinds of poll below, their events and wakes
  std::atomic<uint64_t> busy_polls{0};
  std::atomic<uint64_t> watch_polls{0};
  std::atomic<uint64_t> waits{0};
  std::atomic<uint64_t> checks{0};
  std::atomic<uint64_t> timers_armed{0};
  std::atomic<uint64_t> timers_fired{0};
  std::atomic<uint64_t> timers_cancelled{0};
};

// The calling thread's block for its non-blocking polls (task threads).
// Registered on first use, folded into a total when the thread exits.
PollCounters& task_poll_counters() noexcept;

// The task threads' blocks summed: live threads' and exited threads'.
struct PollTotals {
  uint64_t polls = 0;
  uint64_t events = 0;
  uint64_t wakes = 0;
};
PollTotals task_poll_totals() noexcept;

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_METRICS_COUNTERS_H_
