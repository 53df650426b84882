// block_on(handle): wait for a spawned task from a plain thread.
//
// What it is for: synchronous code (main, a test, a std::thread) that
// spawned a task and wants its result, as BlockingJob::wait() does for a
// blocking job and std::thread::join() for a thread.
//
// Requires: not called from inside a weft task, nor from the only thread
// that runs the task's executor (a LocalExecutor's owner, the sole worker
// of an Executor): it blocks the calling thread until the task finishes,
// and nothing else would run it.
//
// Guarantees: returns the task's result or rethrows its exception; throws
// weft::TaskCancelled if the task was cancelled. The thread parks while it
// waits (block_on underneath: the handle's own join slot wakes it). The
// handle is consumed.
//
// Example:
//   weft::JoinHandle<int> h = weft::spawn(compute());
//   int v = weft::block_on(std::move(h));
//
// (Not named join(): a caller's own `join(JoinHandle<T>)` helper, found
// together with it by argument-dependent lookup, would be ambiguous.)
#ifndef WEFT_SYNC_BLOCK_ON_HANDLE_H_
#define WEFT_SYNC_BLOCK_ON_HANDLE_H_

#include <utility>

#include "executor/block_on.h"
#include "executor/join_handle.h"
#include "executor/task.h"

namespace weft {

namespace detail {
template <class T>
Task<T> await_handle(JoinHandle<T> h) {
  co_return co_await h;
}
}  // namespace detail

// Blocks the calling thread until the task of `h` finishes; its result.
template <class T>
T block_on(JoinHandle<T> h) {
  return block_on(detail::await_handle<T>(std::move(h)));
}

}  // namespace weft

#endif  // WEFT_SYNC_BLOCK_ON_HANDLE_H_
