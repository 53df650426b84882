// WorkerCounters: one worker's statistics (ExecutorMetrics), for Executor's
// worker slots and LocalExecutor's owner thread alike.
//
// Written by the owner thread only, as a relaxed load and store (no
// read-modify-write: a count costs an add on the owner's own cache line);
// read relaxed by snapshot() on any thread. They order nothing: no protocol
// reads them.
#ifndef WEFT_EXECUTOR_WORKER_COUNTERS_H_
#define WEFT_EXECUTOR_WORKER_COUNTERS_H_

#include <chrono>
#include <cstdint>

#include "executor/atomic.h"
#include "executor/metrics.h"

namespace weft {
namespace detail {

struct alignas(64) WorkerCounters {
  weft::atomic<uint64_t> polls{0};
  weft::atomic<uint64_t> lifo_polls{0};
  weft::atomic<uint64_t> overflowed{0};
  weft::atomic<uint64_t> steal_operations{0};
  weft::atomic<uint64_t> stolen{0};
  weft::atomic<uint64_t> parks{0};
  // Nanoseconds (steady clock): the current thread's enter() (0 while no
  // thread works here), time worked by earlier threads, time asleep in
  // finished parks by all of them, and the start of the park in progress
  // (0 when awake).
  weft::atomic<int64_t> entered_ns{0};
  weft::atomic<int64_t> earlier_ns{0};
  weft::atomic<int64_t> parked_ns{0};
  weft::atomic<int64_t> parked_since_ns{0};

  static int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // relaxed throughout: statistics (see above).
  static void add(weft::atomic<uint64_t>& c, uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void add(weft::atomic<int64_t>& c, int64_t n) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  // A thread starts working here / stops.
  void enter() noexcept { entered_ns.store(now_ns(), std::memory_order_relaxed); }
  void leave() noexcept {
    add(earlier_ns, now_ns() - entered_ns.load(std::memory_order_relaxed));
    entered_ns.store(0, std::memory_order_relaxed);
  }
  // Counts one park around `sleep()`.
  template <class Sleep>
  void park(Sleep&& sleep) {
    add(parks);
    const int64_t since = now_ns();
    parked_since_ns.store(since, std::memory_order_relaxed);
    sleep();
    add(parked_ns, now_ns() - since);
    parked_since_ns.store(0, std::memory_order_relaxed);
  }

  // Everything but queue_depth, as of now.
  WorkerMetrics snapshot(int64_t now) const noexcept {
    constexpr auto r = std::memory_order_relaxed;
    WorkerMetrics m;
    m.polls = polls.load(r);
    m.lifo_polls = lifo_polls.load(r);
    m.overflowed = overflowed.load(r);
    m.steal_operations = steal_operations.load(r);
    m.stolen = stolen.load(r);
    m.parks = parks.load(r);
    const int64_t entered = entered_ns.load(r);
    const int64_t since = parked_since_ns.load(r);
    m.active = entered != 0;
    int64_t busy = earlier_ns.load(r) - parked_ns.load(r);
    if (entered) busy += now - entered;
    if (since) busy -= now - since;
    m.busy = std::chrono::nanoseconds(busy > 0 ? busy : 0);
    return m;
  }
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_WORKER_COUNTERS_H_
