// WorkerSlot: one thread's place in an Executor while it is inside run():
// its run queue, LIFO slot, idle-membership and the counters the watchdog
// reads. Slots are reused by later threads and freed with the executor.
//
// Threading rules, field by field, are in the comments below: the owner
// thread alone touches most fields; thieves touch the queue (always, through
// its Stealer handle) and the LIFO slot (only while `stalled`); the watchdog
// (the reactor's driver thread) reads `tick`, `lifo` and the queue's length
// and writes `stalled`.
#ifndef WEFT_EXECUTOR_WORKER_SLOT_H_
#define WEFT_EXECUTOR_WORKER_SLOT_H_

#include <cstdint>

#include "executor/atomic.h"
#include "executor/idle.h"
#include "executor/local_queue.h"
#include "executor/task_header.h"
#ifndef WEFT_RELACY
#include "executor/worker_counters.h"
#endif

namespace weft {
namespace detail {

class ExecutorCore;

// One per thread inside run(); reused by later threads.
struct WorkerSlot : Idle::Member {
  explicit WorkerSlot(ExecutorCore* c) : core(c) {}

  ExecutorCore* const core;

  // The run queue's handles (local_queue.h). owned_queue(): the owner thread
  // only (the thread inside run() holding this slot; the executor's
  // destructor once no thread is). stealer(): any thread.
  LocalQueue::Owner owned_queue() noexcept { return LocalQueue::Owner(queue_); }
  LocalQueue::Stealer stealer() noexcept { return LocalQueue::Stealer(queue_); }

 private:
  // Here, not at the end: the fields below keep the cache lines they had.
  LocalQueue queue_;

 public:

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
#ifndef WEFT_RELACY
  // Statistics only, in no protocol: left out of the model-checking build.
  WorkerCounters counters;
#endif
  // Written under ExecutorCore::slots_mu_.
  bool in_use = false;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_WORKER_SLOT_H_
