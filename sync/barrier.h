// Barrier: makes a fixed number of tasks wait for each other.
//
// What it is for: phases of a parallel computation. Each of n tasks calls
// `co_await barrier.arrive_and_wait()`; all of them continue once the n-th
// arrives. The barrier then starts over for the next phase.
//
// Requires: n >= 1. The Barrier outlives every task waiting on it
// (destroying it with a waiter aborts with a message).
//
// Guarantees:
// - The n-th arrival of a phase releases the n-1 that wait, and its own
//   await returns true (it is the leader, e.g. to do per-phase work once);
//   the others' return false.
// - Cancellation: a task destroyed while it waits withdraws its arrival,
//   so the phase then needs one more arrival (a task that never passed the
//   barrier does not count). One destroyed after its phase completed, before
//   it resumed, changes nothing.
// - Works under block_on, LocalExecutor and Executor, from any thread.
//
// Memory ordering: everything each task wrote before arriving is visible to
// every task of the phase after the barrier (arrivals take the internal
// std::mutex; the release is published by the store that completes each
// waiter).
//
// Example:
//   weft::Barrier phase(workers);
//   for (int step = 0; step < steps; ++step) {
//     compute(step);
//     if (co_await phase.arrive_and_wait()) publish(step);   // once per step
//   }
#ifndef WEFT_SYNC_BARRIER_H_
#define WEFT_SYNC_BARRIER_H_

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

class Barrier {
 public:
  // Throws std::invalid_argument for n == 0.
  explicit Barrier(size_t n);
  ~Barrier();
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  class [[nodiscard]] Awaiter : public detail::QueuedAwaiter<Awaiter, Barrier> {
   public:
    explicit Awaiter(Barrier* b) noexcept : QueuedAwaiter(b) {}
    bool await_ready() const noexcept { return false; }
    // True for the arrival that completed the phase.
    bool await_resume() {
      finish_wait("Barrier");
      return leader_;
    }

   private:
    friend QueuedAwaiter;
    // await_suspend's work (sync/queued_awaiter.h): arrives; true when
    // queued.
    template <detail::WeftPromise P>
    bool try_suspend(std::coroutine_handle<P> h) {
      leader_ = owner_->arrive_or_queue(waiter_, current_waker(h));
      return !leader_;
    }

    bool leader_ = false;
  };

  Awaiter arrive_and_wait() noexcept { return Awaiter(this); }
  size_t parties() const noexcept { return parties_; }

 private:
  // Completes the phase (returns true) or queues `w` with the task's waker.
  // The shared awaiter calls abandon() when a waiting task is destroyed.
  template <class, class, class>
  friend class detail::QueuedAwaiter;
  bool arrive_or_queue(detail::Waiter& w, Waker waker);
  void abandon(detail::Waiter& w) noexcept;

  const size_t parties_;
  mutable std::mutex mu_;
  // This phase's arrivals but the last: the phase completes when the
  // parties_-th arrives.
  detail::WaiterQueue waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weft

#endif  // WEFT_SYNC_BARRIER_H_
