// block_on(task): runs a task to completion on the calling thread.
//
// What it is for: the entry point from synchronous code (main, a test, a
// callback of another framework). The thread parks while the task waits,
// and any waker (a reactor event, another thread) unparks it.
//
// Requires: not called from inside a weft task (that would block a worker).
// Guarantees: returns the task's result or rethrows its exception. Tasks the
// root spawns elsewhere (weft::spawn, an Executor) run there, not here.
//
// Example:
//   int v = weft::block_on([]() -> weft::Task<int> { co_return 7; }());
//   weft::block_on(main_task(), {.budget = 0});   // no cooperative budget
#ifndef WEFT_EXECUTOR_BLOCK_ON_H_
#define WEFT_EXECUTOR_BLOCK_ON_H_

#include <cstdint>
#include <utility>

#include "executor/coop.h"
#include "executor/parker.h"
#include "executor/task.h"
#include "executor/task_threads.h"
#include "executor/thread_context.h"
#include "executor/thread_root.h"

namespace weft {

struct BlockOnOptions {
  // The cooperative budget of the root task's runs (coop.h), as
  // ExecutorOptions::budget: with it, children of when_all / when_any that
  // keep completing at once take turns. 0 means unlimited.
  uint32_t budget = kDefaultCoopBudget;
};

template <class T>
T block_on(Task<T> task, BlockOnOptions options = {}) {
  // Wakes of a surrounding executor's tasks go to its shared queue, not to
  // this blocked thread (thread_context.h).
  detail::WorkerContextGuard guard;
  detail::CoopLimitScope budget(options.budget);
  detail::Parker parker;
  detail::ThreadRoot<T> root(std::move(task), &parker);
  detail::TaskThreadScope awake;
  while (!root.poll()) {
    if (root.ready() || detail::poll_io_before_park() > 0) continue;
    detail::park_task_thread(parker);
  }
  return root.take();
}

}  // namespace weft

#endif  // WEFT_EXECUTOR_BLOCK_ON_H_
