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
// the task runs (by a Waker taken during that run, e.g. an event racing the
// suspend) makes it run once more afterwards; a wake after the task
// completed or was cancelled does nothing. A wake synchronizes with the
// task's next run: what the waker wrote before wake() is visible to the task.
//
// Suspension-scoped: a Waker wakes the task only for the suspension it was
// taken in. It records the task's run generation (a counter in the task's
// state word that every run of the task advances when it starts); a wake
// whose generation is not the current one does nothing. So a Waker kept
// past the suspension it was taken for can never resume a later, unrelated
// await: once the task has run again, the kept Waker is inert (a no-op, like
// a wake after completion). Checking costs nothing extra: the generation is
// compared inside the same compare-and-swap that schedules the task.
// An awaiter whose await_suspend takes a Waker but does not suspend (returns
// false) must still withdraw what it registered: the generation only
// advances when the task next runs.
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

#include <cstdint>

namespace weft {
namespace detail {
struct TaskHeader;  // task_header.h
void ref_inc(TaskHeader* h) noexcept;
void ref_dec(TaskHeader* h) noexcept;
void wake_by_ref(TaskHeader* h, uint64_t generation) noexcept;
}  // namespace detail

class Waker {
 public:
  Waker() noexcept = default;
  // Internal (current_waker): adopts one reference to `task`, for the
  // suspension that follows the run `generation` (see task_header.h).
  Waker(detail::TaskHeader* task, uint64_t generation) noexcept
      : task_(task), generation_(generation) {}

  Waker(const Waker& other) noexcept : task_(other.task_), generation_(other.generation_) {
    if (task_) detail::ref_inc(task_);
  }
  Waker(Waker&& other) noexcept
      : task_(std::exchange(other.task_, nullptr)), generation_(other.generation_) {}
  Waker& operator=(Waker other) noexcept {
    std::swap(task_, other.task_);
    std::swap(generation_, other.generation_);
    return *this;
  }
  ~Waker() {
    if (task_) detail::ref_dec(task_);
  }

  // Schedules the task and gives up this reference.
  void wake() && noexcept {
    if (auto* t = std::exchange(task_, nullptr)) {
      detail::wake_by_ref(t, generation_);
      detail::ref_dec(t);
    }
  }
  // Schedules the task; the Waker stays usable.
  void wake_by_ref() const noexcept {
    if (task_) detail::wake_by_ref(task_, generation_);
  }

  explicit operator bool() const noexcept { return task_ != nullptr; }
  // Whether both wake the same task at the same suspension.
  bool will_wake(const Waker& other) const noexcept {
    return task_ == other.task_ && generation_ == other.generation_;
  }

 private:
  detail::TaskHeader* task_ = nullptr;
  uint64_t generation_ = 0;  // the task's state word, generation bits only
};

}  // namespace weft

#endif  // WEFT_EXECUTOR_WAKER_H_
