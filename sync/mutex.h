// Mutex: an asynchronous mutual-exclusion lock for tasks.
//
// What it is for: protecting state that a task must hold across a co_await
// (a std::mutex held across a suspension would block the worker thread and
// could deadlock). `co_await m.lock()` suspends the task, not the thread.
//
// Requires: the Mutex outlives its guards and every task waiting on it
// (destroying it with a waiter or a guard outstanding aborts with a message).
// A guard may be released on any thread.
//
// Guarantees:
// - Mutual exclusion: at most one MutexGuard exists at a time.
// - Fairness: waiters get the lock in the order they asked for it. Unlock
//   hands the lock straight to the first waiter (the lock stays taken while
//   it is on its way), so a task that keeps relocking cannot barge past one
//   that waits: no waiter starves.
// - No lost wake-up: an unlock that races with a lock() is never missed.
// - Cancellation: a task destroyed while it waits leaves the queue; one
//   destroyed after the lock was handed to it, before it resumed, passes the
//   lock on to the next waiter (or unlocks).
// - Works under block_on, LocalExecutor and Executor, from any thread.
//
// Memory ordering: everything a guard's holder wrote before releasing it
// is visible to the next holder (the hand-off takes the internal
// std::mutex, and a handed lock is published by the release store that
// completes the waiter).
//
// Example:
//   weft::Mutex m;
//   weft::Task<void> add(weft::Mutex& m, std::vector<int>& v, int x) {
//     weft::MutexGuard g = co_await m.lock();
//     v.push_back(x);          // may co_await while holding g
//   }                          // unlocked here
#ifndef WEFT_SYNC_MUTEX_H_
#define WEFT_SYNC_MUTEX_H_

#include <coroutine>
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

class Mutex;

// Holds a Mutex locked; unlocks when destroyed (or on unlock()).
class [[nodiscard]] MutexGuard {
 public:
  MutexGuard() noexcept = default;
  MutexGuard(MutexGuard&& o) noexcept : mutex_(std::exchange(o.mutex_, nullptr)) {}
  MutexGuard& operator=(MutexGuard&& o) noexcept {
    if (this != &o) {
      unlock();
      mutex_ = std::exchange(o.mutex_, nullptr);
    }
    return *this;
  }
  ~MutexGuard() { unlock(); }

  // Unlocks early; the guard is then empty.
  void unlock() noexcept;
  explicit operator bool() const noexcept { return mutex_ != nullptr; }
  Mutex* mutex() const noexcept { return mutex_; }

 private:
  friend class Mutex;
  explicit MutexGuard(Mutex* m) noexcept : mutex_(m) {}
  Mutex* mutex_ = nullptr;
};

class Mutex {
 public:
  Mutex() = default;
  ~Mutex();
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  class [[nodiscard]] LockAwaiter : public detail::QueuedAwaiter<LockAwaiter, Mutex> {
   public:
    explicit LockAwaiter(Mutex* m) noexcept : QueuedAwaiter(m) {}
    // Taking a free lock counts against the cooperative budget
    // (executor/coop.h); with none left, lock() yields first.
    bool await_ready() noexcept {
      return detail::coop_ready([this] { return owner_->try_acquire(); });
    }
    MutexGuard await_resume() {
      finish_wait("Mutex");
      return MutexGuard(owner_);
    }

   private:
    friend QueuedAwaiter;
    // await_suspend's work (sync/queued_awaiter.h): true when queued.
    template <detail::WeftPromise P>
    bool try_suspend(std::coroutine_handle<P> h) {
      return owner_->acquire_or_queue(waiter_, current_waker(h));
    }
  };

  // `co_await m.lock()`: a guard, once the lock is ours.
  LockAwaiter lock() noexcept { return LockAwaiter(this); }
  // A guard if the lock is free and nobody waits for it; never waits.
  std::optional<MutexGuard> try_lock();
  // A snapshot: whether the lock is held (or being handed over).
  bool is_locked() const;

 private:
  friend class MutexGuard;
  // The shared awaiter calls abandon() when a waiting task is destroyed.
  template <class, class, class>
  friend class detail::QueuedAwaiter;
  bool try_acquire();
  // Takes the lock (false) or queues `w` with `waker` (true).
  bool acquire_or_queue(detail::Waiter& w, Waker waker);
  void abandon(detail::Waiter& w) noexcept;
  void unlock() noexcept;
  // Hands the lock to the first waiter, or frees it. Returns the waker to
  // wake once mu_ is released.
  Waker release_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable std::mutex mu_;
  bool locked_ ABSL_GUARDED_BY(mu_) = false;
  detail::WaiterQueue waiters_ ABSL_GUARDED_BY(mu_);
};

inline void MutexGuard::unlock() noexcept {
  if (Mutex* m = std::exchange(mutex_, nullptr)) m->unlock();
}

}  // namespace weft

#endif  // WEFT_SYNC_MUTEX_H_
