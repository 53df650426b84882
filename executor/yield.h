// yield_now(): lets other tasks run before this one continues.
//
// What it is for: a long computation in a task shares its worker by
// awaiting yield_now() now and then.
// Guarantees: the task is re-queued at the back of its worker's queue (never
// in the LIFO slot), so every task queued before it runs first.
//
// Example:
//   for (int i = 0; i < n; ++i) { step(i); if (i % 1000 == 0) co_await weft::yield_now(); }
#ifndef WEFT_EXECUTOR_YIELD_H_
#define WEFT_EXECUTOR_YIELD_H_

#include <coroutine>

#include "executor/task.h"

namespace weft {

struct YieldAwaiter {
  bool await_ready() const noexcept { return false; }
  template <detail::WeftPromise P>
  void await_suspend(std::coroutine_handle<P> h) const noexcept {
    // The task is RUNNING, so this only marks it SCHEDULED; the runner
    // re-queues it at the back when this run ends.
    detail::TaskHeader* t = h.promise().task();
    detail::wake_by_ref(t, detail::running_generation(t));
  }
  void await_resume() const noexcept {}
};

inline YieldAwaiter yield_now() noexcept { return {}; }

}  // namespace weft

#endif  // WEFT_EXECUTOR_YIELD_H_
