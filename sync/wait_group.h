// WaitGroup: waits for a counted set of jobs to finish (Go's sync.WaitGroup).
//
// What it is for: a task starts n jobs (tasks, threads, callbacks), calls
// add(n), each job calls done() when it finishes, and `co_await wg.wait()`
// completes once the count is back to zero.
//
// Requires: done() is called at most as many times as add() counted
// (calling it more aborts with a message). The WaitGroup outlives every task
// waiting on it (destroying it with a waiter aborts with a message).
//
// Guarantees:
// - wait() completes when the count is zero: at once if it already is,
//   otherwise when the done() that brings it to zero runs. Every task
//   waiting then is woken. The group can be reused (add() again).
// - Cancellation: a task destroyed while it waits leaves the queue; nothing
//   else changes.
// - Works under block_on, LocalExecutor and Executor, from any thread.
//
// Memory ordering: everything the jobs wrote before done() is visible to
// the task whose wait() completes (the internal std::mutex, and the release
// store that completes each waiter).
//
// Example:
//   weft::WaitGroup wg;
//   wg.add(jobs.size());
//   for (auto& j : jobs) ex.spawn(run_then_done(j, wg)).detach();
//   co_await wg.wait();
#ifndef WEFT_SYNC_WAIT_GROUP_H_
#define WEFT_SYNC_WAIT_GROUP_H_

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "executor/waker.h"
#include "sync/queued_awaiter.h"
#include "sync/waiter.h"

namespace weft {

class WaitGroup {
 public:
  explicit WaitGroup(size_t count = 0) noexcept : count_(count) {}
  ~WaitGroup();
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  class [[nodiscard]] Awaiter : public detail::QueuedAwaiter<Awaiter, WaitGroup> {
   public:
    explicit Awaiter(WaitGroup* wg) noexcept : QueuedAwaiter(wg) {}
    bool await_ready() const noexcept { return false; }
    void await_resume() { finish_wait("WaitGroup"); }

   private:
    friend QueuedAwaiter;
    // await_suspend's work (sync/queued_awaiter.h): true when queued.
    template <detail::WeftPromise P>
    bool try_suspend(std::coroutine_handle<P> h) {
      return owner_->wait_or_queue(waiter_, current_waker(h));
    }
  };

  void add(size_t n = 1);
  void done();
  // `co_await wg.wait()`: completes when the count is zero.
  Awaiter wait() noexcept { return Awaiter(this); }
  // A snapshot of the count.
  size_t count() const;

 private:
  // The shared awaiter calls abandon() when a waiting task is destroyed.
  template <class, class, class>
  friend class detail::QueuedAwaiter;
  bool wait_or_queue(detail::Waiter& w, Waker waker);
  void abandon(detail::Waiter& w) noexcept;

  mutable std::mutex mu_;
  size_t count_ ABSL_GUARDED_BY(mu_);
  detail::WaiterQueue waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weft

#endif  // WEFT_SYNC_WAIT_GROUP_H_
