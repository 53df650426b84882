// Waker: a counted reference to a task that schedules it again.
//
// What it is for: a leaf awaiter (an fd readiness wait, a timer, a channel,
// a blocking job) keeps the Waker of the task it suspended and calls wake()
// when the task can make progress. Nothing else about the task or its
// executor needs to be known, so the same leaf works under block_on,
// LocalExecutor and Executor.
//
// Requires: obtain it with `current_waker(h)` inside `await_suspend(h)` of a
// weft coroutine (a weft Task or a task spawned on a weft executor).
//
// Guarantees: wake()/wake_by_ref() may be called from any thread, any number
// of times; duplicate wakes before the task runs are absorbed; a wake while
// the task runs makes it run once more afterwards; a wake after the task
// completed or was cancelled does nothing. A wake synchronizes with the
// task's next run: what the waker wrote before wake() is visible to the task.
//
// Rule for leaf awaiters: a Waker is for the suspension it was taken in.
// Once the task has resumed, drop it (weft's awaiters unregister theirs in
// await_resume or their destructor). A C++ awaiter cannot suspend again from
// await_resume, so a stale waker that fires at a later, unrelated await
// resumes it early; weft's own awaiters detect that and throw
// std::logic_error rather than misbehave.
//
// Example:
//   struct Ready {
//     std::optional<weft::Waker>* slot;
//     bool await_ready() const noexcept { return false; }
//     template <class P>
//     void await_suspend(std::coroutine_handle<P> h) { *slot = weft::current_waker(h); }
//     void await_resume() const noexcept {}
//   };
//   // elsewhere, any thread: slot->take()->wake();
#ifndef WEFT_EXECUTOR_WAKER_H_
#define WEFT_EXECUTOR_WAKER_H_

#include <utility>

#include "executor/task_header.h"

namespace weft {

class Waker {
 public:
  Waker() noexcept = default;
  // Adopts one reference to `task`.
  explicit Waker(detail::TaskHeader* task) noexcept : task_(task) {}

  Waker(const Waker& other) noexcept : task_(other.task_) {
    if (task_) detail::ref_inc(task_);
  }
  Waker(Waker&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  Waker& operator=(Waker other) noexcept {
    std::swap(task_, other.task_);
    return *this;
  }
  ~Waker() {
    if (task_) detail::ref_dec(task_);
  }

  // Schedules the task and gives up this reference.
  void wake() && noexcept {
    if (auto* t = std::exchange(task_, nullptr)) {
      detail::wake_by_ref(t);
      detail::ref_dec(t);
    }
  }
  // Schedules the task; the Waker stays usable.
  void wake_by_ref() const noexcept {
    if (task_) detail::wake_by_ref(task_);
  }

  explicit operator bool() const noexcept { return task_ != nullptr; }
  // Whether both wake the same task.
  bool will_wake(const Waker& other) const noexcept { return task_ == other.task_; }

  // Gives up the reference without dropping it (for intrusive waiter lists).
  detail::TaskHeader* release() noexcept { return std::exchange(task_, nullptr); }

 private:
  detail::TaskHeader* task_ = nullptr;
};

}  // namespace weft

#endif  // WEFT_EXECUTOR_WAKER_H_
