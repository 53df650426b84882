// WorkerSlot: one thread's place in an Executor while it is inside run():
// its run queue, LIFO slot, idle-membership and the counters the watchdog
// reads. Slots are reused by later threads and freed with the executor.
//
// Threading rules, field by field, are in the comments below: the owner
// thread alone touches most fields; thieves touch the queue (always) and
// the LIFO slot (only while `stalled`); the watchdog (the reactor's driver
// thread) reads `tick`, `lifo` and the queue's length and writes `stalled`.
#ifndef WEFT_EXECUTOR_WORKER_SLOT_H_
#define WEFT_EXECUTOR_WORKER_SLOT_H_

#include <cstdint>

#include "executor/atomic.h"
#include "executor/idle.h"
#include "executor/local_queue.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {

class ExecutorCore;

// The slot's statistics (ExecutorMetrics). Written by the owner thread only,
// as a relaxed load and store (no read-modify-write, so a count costs an add
// on the owner's own cache line); read relaxed by metrics() on any thread.
// They order nothing: no protocol reads them.
struct alignas(64) WorkerCounters {
  weft::atomic<uint64_t> polls{0};
  weft::atomic<uint64_t> lifo_polls{0};
  weft::atomic<uint64_t> overflowed{0};
  weft::atomic<uint64_t> steal_operations{0};
  weft::atomic<uint64_t> stolen{0};
  weft::atomic<uint64_t> parks{0};
  // Nanoseconds (steady clock): the current thread's enter() (0 while no
  // thread holds the slot), time inside run() by earlier threads, time
  // asleep in finished park()s by all of them, and the start of the park
  // in progress (0 when awake).
  weft::atomic<int64_t> entered_ns{0};
  weft::atomic<int64_t> earlier_ns{0};
  weft::atomic<int64_t> parked_ns{0};
  weft::atomic<int64_t> parked_since_ns{0};

  static void add(weft::atomic<uint64_t>& c, uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void add(weft::atomic<int64_t>& c, int64_t n) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

// One per thread inside run(); reused by later threads.
struct WorkerSlot : Idle::Member {
  explicit WorkerSlot(ExecutorCore* c) : core(c) {}

  ExecutorCore* const core;
  LocalQueue queue;  // owner pushes and pops; others steal

  // The task the owner woke last, run next (the LIFO slot). Put and taken by
  // the owner; taken by a thief only while `stalled` is set. Exchanged with
  // acq_rel by both, so a task is taken exactly once and its header is
  // published to whoever takes it.
  weft::atomic<TaskHeader*> lifo{nullptr};
  // Tasks the owner picked so far. Written by the owner (relaxed store, no
  // RMW), read by the watchdog: unchanged between two looks means the owner
  // has been running one task all that time.
  weft::atomic<uint32_t> tick{0};
  // Set by the watchdog when the owner has been running one task for a whole
  // check interval with work queued behind it: thieves may then take the
  // LIFO slot too. Cleared by the owner when it picks its next task.
  // relaxed both ways: the LIFO exchange itself orders the hand-off.
  weft::atomic<bool> stalled{false};

  // Owner thread only:
  uint32_t lifo_streak = 0;
  uint64_t rng = 0x9E3779B97F4A7C15ull;

  uint32_t watchdog_seen_tick = 0;  // the watchdog's (driver thread's) only
  WorkerCounters counters;
  // Written under ExecutorCore::slots_mu_.
  bool in_use = false;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_WORKER_SLOT_H_
