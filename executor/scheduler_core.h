// SchedulerCore: what Executor and LocalExecutor share: the list of live
// tasks, the injector that takes tasks from other threads, the reference
// count that keeps the core alive while tasks can still reach it, and the
// shutdown protocol.
//
// Lifetime: the core is reference-counted. The owning executor holds one
// reference; a thread pushing a task from outside holds one for the
// duration of the push; and at shutdown every task still live is counted as
// one until it is destroyed. So a waker that races with the executor's
// destruction (it marked a live task SCHEDULED and is about to call
// schedule()) never touches freed memory: its push finds the injector closed
// and destroys the task itself, and only then is the core released. While
// the executor lives, spawning and finishing a task touch no shared count:
// the live-task list alone says which tasks exist.
//
// Shutdown (the executor's destructor), in order:
//   1. Close the injector: from now on a push from another thread destroys
//      its task instead of queuing it. Take what it held.
//   2. Take the list of live tasks and mark each CLOSED, so that every later
//      wake is a no-op and every later JoinHandle release leaves the frame to
//      us. Tasks that were idle are now ours; queued ones are in a queue (or
//      in a racing push, which step 1 turned into a destroy).
//   3. Destroy the frames of the idle ones, then of everything queued
//      (injector contents from step 1 and the subclass's own queues), each
//      exactly once. Destroying a frame runs its destructors, which may
//      release handles of other tasks: those are CLOSED already, so that
//      only clears their HANDLE bit.
//   4. Drop the executor's reference; the core goes when the last racing
//      push (if any) has finished.
#ifndef WEFT_EXECUTOR_SCHEDULER_CORE_H_
#define WEFT_EXECUTOR_SCHEDULER_CORE_H_

#include <atomic>
#include <cstdint>

#include "executor/injector.h"
#include "executor/live_tasks.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {

class SchedulerCore : public Scheduler {
 public:
  SchedulerCore() = default;
  SchedulerCore(const SchedulerCore&) = delete;
  SchedulerCore& operator=(const SchedulerCore&) = delete;

  void task_done(TaskHeader* t) noexcept final;

  // Takes a reference; release() drops it and deletes the core at zero.
  void retain() noexcept {
    // relaxed: the caller already holds a reference (as in ref_inc).
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept;

  // Registers a freshly made root (not yet visible to any other thread).
  void adopt(TaskHeader* t) noexcept { live_.insert(t); }

  // The live tasks (task_dump.h), from any thread.
  TaskDump dump() const { return live_.dump(); }

  // Steps 1-3 of the shutdown above; the subclass passes its own queues'
  // contents (a chain via next) in `queued`. Step 4 is release().
  void shut_down(TaskHeader* queued) noexcept;

 protected:
  virtual ~SchedulerCore() = default;

  // Pushes from a thread that is not running this executor: onto the
  // injector, then notify_remote(). After shutdown, destroys the task.
  void push_remote(TaskHeader* t) noexcept;
  // Wakes someone to take work from the injector.
  virtual void notify_remote() noexcept = 0;

  Injector injector_;
  LiveTasks live_;

 private:
  // One for the executor object, one per push in flight, and after shutdown
  // one per task taken from the live list and not yet destroyed.
  std::atomic<uint64_t> refs_{1};
};

// Destroys every task in a chain linked through next (all CLOSED).
void destroy_chain(TaskHeader* chain) noexcept;

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_SCHEDULER_CORE_H_
