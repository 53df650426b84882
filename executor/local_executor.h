// LocalExecutor: a single-threaded executor, for tasks that never leave
// their thread (thread-per-core designs, GUI threads, tests).
//
// What it is for: the same spawn / run / try_tick as Executor, without work
// stealing. Tasks run only on the thread inside run() or try_tick().
//
// Requires: spawn, run, try_tick and destruction on one thread at a time
// (the owner). Wakers may still be sent anywhere: a wake from another thread
// goes through a locked queue and unparks the owner. spawn_remote() may be
// called from any thread while the executor lives; its task takes the same
// locked queue.
// Guarantees: FIFO order of spawned and woken tasks on the owner; the run
// queue is a plain intrusive list (no atomics, no locks) for everything the
// owner thread schedules. Destruction destroys every task it holds, once.
//
// Example:
//   weft::LocalExecutor ex;
//   auto h = ex.spawn(compute());
//   int v = ex.run([&]() -> weft::Task<int> { co_return co_await h; }());
#ifndef WEFT_EXECUTOR_LOCAL_EXECUTOR_H_
#define WEFT_EXECUTOR_LOCAL_EXECUTOR_H_

#include <cstdint>
#include <source_location>
#include <utility>

#include "executor/coop.h"
#include "executor/join_handle.h"
#include "executor/metrics.h"
#include "executor/task_dump.h"
#include "executor/task.h"
#include "executor/thread_root.h"

namespace weft {

struct LocalExecutorOptions {
  // The cooperative budget, as ExecutorOptions::budget (coop.h): awaits
  // completing without suspending per run of a task before it goes to the
  // back of the queue. 0 means unlimited.
  uint32_t budget = kDefaultCoopBudget;
};

namespace detail {
class LocalCore;
}

class LocalExecutor {
 public:
  explicit LocalExecutor(LocalExecutorOptions options = {});
  ~LocalExecutor();
  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

  // `spawned_at` (the caller, by default) is recorded for dump().
  template <class T>
  JoinHandle<T> spawn(Task<T> task,
                      std::source_location spawned_at = std::source_location::current()) {
    auto* h = detail::make_root(std::move(task), scheduler(), detail::state::kNewRoot, spawned_at);
    submit(h);
    return JoinHandle<T>(h);
  }

  // From any thread (the executor must outlive the call): the task goes
  // through the cross-thread queue and runs on the owner. FIFO with other
  // spawn_remote calls and remote wakes, not with spawn().
  template <class T>
  JoinHandle<T> spawn_remote(Task<T> task,
                             std::source_location spawned_at = std::source_location::current()) {
    auto* h = detail::make_root(std::move(task), scheduler(), detail::state::kNewRoot, spawned_at);
    submit_remote(h);
    return JoinHandle<T>(h);
  }

  // Runs tasks on the calling thread until `main` completes.
  template <class T>
  T run(Task<T> main) {
    detail::ThreadRoot<T> root(std::move(main), parker());
    work_until(root);
    return root.take();
  }

  // Runs one scheduled task if there is one; returns whether it did.
  bool try_tick();

  // A snapshot (metrics.h), from any thread: one worker (the owner, while
  // it is inside run()); injector_depth counts tasks sent from other
  // threads and not yet taken; no steals or LIFO polls.
  ExecutorMetrics metrics() const;

  // Every task spawned here and not finished (task_dump.h); any thread.
  TaskDump dump() const;

 private:
  detail::Scheduler* scheduler() noexcept;
  detail::Parker* parker() noexcept;
  void submit(detail::TaskHeader* h) noexcept;
  void submit_remote(detail::TaskHeader* h) noexcept;
  void work_until(detail::RootBase& root) noexcept;

  detail::LocalCore* core_;
};

}  // namespace weft

#endif  // WEFT_EXECUTOR_LOCAL_EXECUTOR_H_
