// ThreadContext: which scheduler, if any, the calling thread is running
// tasks for, as one typed thread-local record.
//
// What it is for: a wake asks "is the waking thread a worker of the task's
// own executor?" (ExecutorCore::schedule: then the task goes to that
// worker's LIFO slot or queue; LocalCore::schedule: then to the plain local
// list) instead of taking the shared, locked path. block_on hides the record
// while it runs, so a thread blocked there is not handed tasks it cannot run.
//
// Requires: only executor/ reads or writes the record, through the functions
// below; whoever sets a field restores the value it replaced (the scopes
// nest).
// Guarantees: the record is constant-initialised (constinit), so reading it
// is a plain thread-local load with no initialisation check; it names the
// worker slot and the local core with their own types.
//
// Example (executor.cc, Executor::Worker):
//   saved_ = detail::exchange_worker_slot(slot);   // entering run()
//   ...
//   detail::exchange_worker_slot(saved_);          // leaving it
#ifndef WEFT_EXECUTOR_THREAD_CONTEXT_H_
#define WEFT_EXECUTOR_THREAD_CONTEXT_H_

#include <utility>

namespace weft {
namespace detail {

struct WorkerSlot;  // worker_slot.h
class LocalCore;    // local_executor.cc

struct ThreadContext {
  // The Executor worker slot this thread holds while inside Executor::run().
  WorkerSlot* worker = nullptr;
  // The LocalExecutor core whose run() or try_tick() this thread is inside.
  LocalCore* local_core = nullptr;
};

// Defined in executor.cc. Only this thread reads or writes its own record.
extern constinit thread_local ThreadContext t_thread_context;

inline WorkerSlot* current_worker_slot() noexcept { return t_thread_context.worker; }
inline LocalCore* current_local_core() noexcept { return t_thread_context.local_core; }

// Set a field; return the value it replaced, for the caller to restore.
inline WorkerSlot* exchange_worker_slot(WorkerSlot* slot) noexcept {
  return std::exchange(t_thread_context.worker, slot);
}
inline LocalCore* exchange_local_core(LocalCore* core) noexcept {
  return std::exchange(t_thread_context.local_core, core);
}

// `core` is the thread's local core for the scope's lifetime.
class LocalCoreScope {
 public:
  explicit LocalCoreScope(LocalCore* core) noexcept : saved_(exchange_local_core(core)) {}
  ~LocalCoreScope() { exchange_local_core(saved_); }
  LocalCoreScope(const LocalCoreScope&) = delete;
  LocalCoreScope& operator=(const LocalCoreScope&) = delete;

 private:
  LocalCore* const saved_;
};

// Hides the calling thread's whole context for the scope's lifetime
// (block_on, Executor::try_tick), so wakes of a surrounding executor's tasks
// go to its shared queue, not to a local slot or list this thread will not
// serve until the scope ends.
class WorkerContextGuard {
 public:
  WorkerContextGuard() noexcept : saved_(std::exchange(t_thread_context, ThreadContext{})) {}
  ~WorkerContextGuard() { t_thread_context = saved_; }
  WorkerContextGuard(const WorkerContextGuard&) = delete;
  WorkerContextGuard& operator=(const WorkerContextGuard&) = delete;

 private:
  const ThreadContext saved_;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_THREAD_CONTEXT_H_
