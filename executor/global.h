// weft::spawn: a process-wide executor for programs that want no set-up.
//
// What it is for: `weft::spawn(task)` from anywhere, with no Executor to
// create or threads to start. The global executor is created on first use
// with WEFT_THREADS worker threads (default: the number of CPUs), named
// "weft-worker-N". It lives until the process exits (it is never destroyed,
// so no exit-time races with detached tasks).
//
// Example:
//   auto h = weft::spawn(compute());
//   int v = weft::block_on([&]() -> weft::Task<int> { co_return co_await h; }());
#ifndef WEFT_EXECUTOR_GLOBAL_H_
#define WEFT_EXECUTOR_GLOBAL_H_

#include <source_location>
#include <utility>

#include "executor/executor.h"
#include "executor/join_handle.h"
#include "executor/task.h"

namespace weft {

// The global executor (started on first call).
Executor& global_executor();

template <class T>
JoinHandle<T> spawn(Task<T> task,
                    std::source_location spawned_at = std::source_location::current()) {
  return global_executor().spawn(std::move(task), spawned_at);
}

}  // namespace weft

#endif  // WEFT_EXECUTOR_GLOBAL_H_
