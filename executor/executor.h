// Executor: a shared, work-stealing executor with no threads of its own.
//
// What it is for: running many tasks on the threads you choose. Any thread
// that calls `ex.run(task)` becomes one of its workers until that task
// completes; that is how the threads of a pool you already have (an
// asio::thread_pool, a std::jthread pool, a game loop calling try_tick())
// are recruited. `spawn` may be called from any thread. Any number of
// threads may be inside run() at once (the worker table grows).
//
// Scheduling (after tokio's multi-threaded scheduler):
// - each worker has a fixed-size run queue that other workers steal half of,
//   and a LIFO slot for the task it just woke (run next, for locality; at
//   most kMaxLifoPolls times in a row; ExecutorOptions::lifo_slot turns it
//   off);
// - a shared injector takes spawns and wakes from outside and queue
//   overflow; workers check it first every kGlobalQueueInterval ticks, so it
//   cannot starve;
// - an idle worker searches (steals) before it parks; at most half the
//   workers search at once; a parked worker is woken only when no worker is
//   already searching, and a searcher that finds work wakes another; a
//   worker leaves the searching state before it runs any task (idle.h);
// - liveness: work queued behind a worker that has been running one task
//   for a whole watchdog interval (~0.5 ms) goes to an idle worker, LIFO
//   slot included, and tasks woken from outside are taken from the injector
//   at the next pick (watchdog.h); an idle worker may sleep in epoll_wait
//   as the reactor's I/O watcher (task_threads.h);
// - a task whose awaits keep completing at once goes to the back of its
//   worker's queue after ExecutorOptions::budget of them (coop.h).
//
// Requires: destroy the Executor only once no thread is inside run() or
// spawn() (wakes may still race with destruction: that is handled).
// Guarantees: destroying it destroys every task it still holds (queued or
// suspended), each exactly once; their JoinHandles then report
// TaskCancelled. Spawning costs one allocation (the coroutine frame).
//
// Example:
//   weft::Executor ex;
//   std::jthread helper([&] { ex.run(until_done()); });   // a second worker
//   int v = ex.run([&]() -> weft::Task<int> {
//     auto h = ex.spawn(compute());
//     co_return co_await h;
//   }());
#ifndef WEFT_EXECUTOR_EXECUTOR_H_
#define WEFT_EXECUTOR_EXECUTOR_H_

#include <cstddef>
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

struct ExecutorOptions {
  // Run the most recently woken task next on the waking worker. Good for
  // message passing (the receiver runs while the message is in cache);
  // switch off to get strict FIFO order per worker.
  bool lifo_slot = true;
  // The cooperative budget (coop.h): how many awaits that complete without
  // suspending one run of a task may do before its next such await sends
  // it to the back of its worker's queue. 0 means unlimited (a task then
  // keeps its worker for as long as its awaits complete at once).
  uint32_t budget = kDefaultCoopBudget;
};

namespace detail {
class ExecutorCore;
struct WorkerSlot;
}  // namespace detail

class Executor {
 public:
  explicit Executor(ExecutorOptions options = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Schedules `task`; from a worker of this executor it goes to that
  // worker's queue, from anywhere else to the injector. `spawned_at` (the
  // caller, by default) is recorded for dump().
  template <class T>
  JoinHandle<T> spawn(Task<T> task,
                      std::source_location spawned_at = std::source_location::current()) {
    auto* h = detail::make_root(std::move(task), scheduler(), detail::state::kNewRoot, spawned_at);
    submit(h);
    return JoinHandle<T>(h);
  }

  // Makes the calling thread a worker until `main` completes; returns its
  // result or rethrows its exception. `main` itself runs only on this thread.
  template <class T>
  T run(Task<T> main) {
    detail::CoopLimitScope budget(budget_);
    Worker worker(this);
    detail::ThreadRoot<T> root(std::move(main), worker.parker());
    worker.work_until(root);
    return root.take();
  }

  // Runs one scheduled task on the calling thread if there is one, without
  // joining as a worker. Returns whether it ran something.
  bool try_tick();

  // Threads inside run() right now.
  size_t num_workers() const noexcept;

  // A snapshot of what the executor is doing (metrics.h); any thread.
  ExecutorMetrics metrics() const;

  // Every task spawned here and not finished: its state and where it was
  // spawned (task_dump.h); any thread.
  TaskDump dump() const;

 private:
  // The calling thread's membership as a worker (RAII).
  class Worker {
   public:
    explicit Worker(Executor* ex);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    detail::Parker* parker() noexcept;
    void work_until(detail::RootBase& root) noexcept;

   private:
    detail::ExecutorCore* core_;
    detail::WorkerSlot* slot_;
    detail::WorkerSlot* saved_worker_;  // the thread's slot before run(), restored after
  };

  detail::Scheduler* scheduler() noexcept;
  void submit(detail::TaskHeader* h) noexcept;

  detail::ExecutorCore* core_;
  const uint32_t budget_;  // ExecutorOptions::budget
};

}  // namespace weft

#endif  // WEFT_EXECUTOR_EXECUTOR_H_
