// Semaphore: an asynchronous counting semaphore for tasks.
//
// What it is for: bounding concurrency (at most N requests in flight, at
// most N MiB buffered). `co_await sem.acquire(n)` waits until n permits are
// free and returns a guard that gives them back.
//
// Requires: the Semaphore outlives its guards and every task waiting on it
// (destroying it with a waiter outstanding aborts with a message).
//
// Guarantees:
// - Never over-admits: the permits held by guards never exceed the permits
//   the semaphore was given (initial count plus add_permits()).
// - Fairness: waiters are served in order. A large request at the front is
//   not overtaken by smaller ones behind it (they wait too), so it cannot
//   starve; an acquire that arrives while anyone waits queues.
// - Cancellation: a task destroyed while it waits leaves the queue (waiters
//   it held back may then go); one destroyed after its permits were granted,
//   before it resumed, gives them back.
// - acquire(0) completes at once. A request larger than the total number of
//   permits waits until enough are added.
// - Works under block_on, LocalExecutor and Executor, from any thread.
//
// Memory ordering: releasing permits happens-before the acquire they
// satisfy (both take the internal std::mutex; a grant is published by the
// release store that completes the waiter).
//
// Example:
//   weft::Semaphore in_flight(8);
//   weft::Task<void> fetch(weft::Semaphore& s, Url u) {
//     weft::SemaphoreGuard permit = co_await s.acquire();
//     co_await download(u);     // at most 8 at a time
//   }
#ifndef WEFT_SYNC_SEMAPHORE_H_
#define WEFT_SYNC_SEMAPHORE_H_

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "executor/waker.h"
#include "sync/queued_awaiter.h"
#include "sync/waiter.h"

namespace weft {

class Semaphore;

// Holds permits of a Semaphore; gives them back when destroyed.
class [[nodiscard]] SemaphoreGuard {
 public:
  SemaphoreGuard() noexcept = default;
  SemaphoreGuard(SemaphoreGuard&& o) noexcept
      : sem_(std::exchange(o.sem_, nullptr)), permits_(std::exchange(o.permits_, 0)) {}
  SemaphoreGuard& operator=(SemaphoreGuard&& o) noexcept {
    if (this != &o) {
      release();
      sem_ = std::exchange(o.sem_, nullptr);
      permits_ = std::exchange(o.permits_, 0);
    }
    return *this;
  }
  ~SemaphoreGuard() { release(); }

  // Gives the permits back now.
  void release() noexcept;
  // Keeps the permits out of the semaphore for good (they are not returned).
  void forget() noexcept {
    sem_ = nullptr;
    permits_ = 0;
  }
  size_t permits() const noexcept { return permits_; }

 private:
  friend class Semaphore;
  SemaphoreGuard(Semaphore* s, size_t n) noexcept : sem_(s), permits_(n) {}
  Semaphore* sem_ = nullptr;
  size_t permits_ = 0;
};

namespace detail {
struct SemaphoreWaiter : Waiter {
  size_t permits = 0;  // how many it asks for; set before queuing
};
}  // namespace detail

class Semaphore {
 public:
  explicit Semaphore(size_t permits) noexcept : available_(permits) {}
  ~Semaphore();
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  class [[nodiscard]] AcquireAwaiter
      : public detail::QueuedAwaiter<AcquireAwaiter, Semaphore, detail::SemaphoreWaiter> {
   public:
    AcquireAwaiter(Semaphore* s, size_t n) noexcept : QueuedAwaiter(s) { waiter_.permits = n; }
    // Permits taken at once count against the cooperative budget
    // (executor/coop.h); with none left, acquire() yields first.
    bool await_ready() noexcept {
      return detail::coop_ready([this] { return owner_->try_take(waiter_.permits); });
    }
    SemaphoreGuard await_resume() {
      finish_wait("Semaphore");
      return SemaphoreGuard(owner_, waiter_.permits);
    }

   private:
    friend QueuedAwaiter;
    // await_suspend's work (sync/queued_awaiter.h): true when queued.
    template <detail::WeftPromise P>
    bool try_suspend(std::coroutine_handle<P> h) {
      return owner_->take_or_queue(waiter_, current_waker(h));
    }
  };

  // `co_await sem.acquire(n)`: a guard holding n permits.
  AcquireAwaiter acquire(size_t n = 1) noexcept { return AcquireAwaiter(this, n); }
  // A guard if n permits are free and nobody waits; never waits.
  std::optional<SemaphoreGuard> try_acquire(size_t n = 1);
  // Adds permits (for good); waiting tasks they satisfy are woken.
  void add_permits(size_t n) noexcept;
  // A snapshot of the free permits.
  size_t available() const;

 private:
  friend class SemaphoreGuard;
  // The shared awaiter calls abandon() when a waiting task is destroyed.
  template <class, class, class>
  friend class detail::QueuedAwaiter;
  bool try_take(size_t n);
  bool take_or_queue(detail::SemaphoreWaiter& w, Waker waker);
  void abandon(detail::SemaphoreWaiter& w) noexcept;
  void grant_locked(detail::WakeList& wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable std::mutex mu_;
  size_t available_ ABSL_GUARDED_BY(mu_);
  detail::WaiterQueue waiters_ ABSL_GUARDED_BY(mu_);  // SemaphoreWaiter nodes
};

inline void SemaphoreGuard::release() noexcept {
  if (Semaphore* s = std::exchange(sem_, nullptr)) s->add_permits(std::exchange(permits_, 0));
}

}  // namespace weft

#endif  // WEFT_SYNC_SEMAPHORE_H_
