// RwLock: an asynchronous reader-writer lock for tasks.
//
// What it is for: state that many tasks read and few write, held across
// co_awaits. `co_await rw.read()` shares the lock with other readers;
// `co_await rw.write()` takes it alone.
//
// Requires: the RwLock outlives its guards and every task waiting on it
// (destroying it with a waiter or guard outstanding aborts with a message).
//
// Guarantees:
// - Any number of ReadGuards, or one WriteGuard, never both.
// - Fairness: one FIFO queue for both kinds. A reader that arrives while
//   anyone waits queues behind them, so a stream of readers cannot starve a
//   writer; when the lock frees up, the queue is served in order: a writer
//   alone, or every reader up to the next writer together.
// - Cancellation: a task destroyed while it waits leaves the queue (and if
//   it was a writer holding back the readers behind it, they go ahead); one
//   destroyed after the lock was granted to it, before it resumed, releases
//   that grant to the next in line.
// - Works under block_on, LocalExecutor and Executor, from any thread.
//
// Memory ordering: a writer's writes are visible to every later holder, and
// readers' to the next writer (the grant takes the internal std::mutex and
// is published by the release store that completes the waiter).
//
// Example:
//   weft::RwLock rw;
//   { weft::ReadGuard r = co_await rw.read();  use(table); }
//   { weft::WriteGuard w = co_await rw.write(); table.insert(x); }
#ifndef WEFT_SYNC_RW_LOCK_H_
#define WEFT_SYNC_RW_LOCK_H_

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

class RwLock;

// Holds a shared (read) or exclusive (write) grant; releases it when
// destroyed or on unlock().
template <bool kWrite>
class [[nodiscard]] RwLockGuard {
 public:
  RwLockGuard() noexcept = default;
  RwLockGuard(RwLockGuard&& o) noexcept : lock_(std::exchange(o.lock_, nullptr)) {}
  RwLockGuard& operator=(RwLockGuard&& o) noexcept {
    if (this != &o) {
      unlock();
      lock_ = std::exchange(o.lock_, nullptr);
    }
    return *this;
  }
  ~RwLockGuard() { unlock(); }
  void unlock() noexcept;
  explicit operator bool() const noexcept { return lock_ != nullptr; }

 private:
  friend class RwLock;
  explicit RwLockGuard(RwLock* l) noexcept : lock_(l) {}
  RwLock* lock_ = nullptr;
};
using ReadGuard = RwLockGuard<false>;
using WriteGuard = RwLockGuard<true>;

namespace detail {
struct RwWaiter : Waiter {
  bool writer = false;  // set before queuing; read under the RwLock's lock
};
}  // namespace detail

class RwLock {
 public:
  RwLock() = default;
  ~RwLock();
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  template <bool kWrite>
  class [[nodiscard]] Awaiter
      : public detail::QueuedAwaiter<Awaiter<kWrite>, RwLock, detail::RwWaiter> {
    using Base = detail::QueuedAwaiter<Awaiter<kWrite>, RwLock, detail::RwWaiter>;

   public:
    explicit Awaiter(RwLock* l) noexcept : Base(l) { this->waiter_.writer = kWrite; }
    // A grant taken at once counts against the cooperative budget
    // (executor/coop.h); with none left, read() / write() yield first.
    bool await_ready() noexcept {
      return detail::coop_ready([this] { return this->owner_->try_acquire(kWrite); });
    }
    RwLockGuard<kWrite> await_resume() {
      this->finish_wait("RwLock");
      return RwLockGuard<kWrite>(this->owner_);
    }

   private:
    friend Base;
    // await_suspend's work (sync/queued_awaiter.h): true when queued.
    template <detail::WeftPromise P>
    bool try_suspend(std::coroutine_handle<P> h) {
      return this->owner_->acquire_or_queue(this->waiter_, current_waker(h));
    }
  };

  // `co_await rw.read()`: a shared guard.
  Awaiter<false> read() noexcept { return Awaiter<false>(this); }
  // `co_await rw.write()`: an exclusive guard.
  Awaiter<true> write() noexcept { return Awaiter<true>(this); }
  // Never wait; fail if anyone holds a conflicting grant or waits.
  std::optional<ReadGuard> try_read();
  std::optional<WriteGuard> try_write();

 private:
  template <bool>
  friend class RwLockGuard;
  // The shared awaiter calls abandon() when a waiting task is destroyed.
  template <class, class, class>
  friend class detail::QueuedAwaiter;
  bool try_acquire(bool write);
  bool acquire_or_queue(detail::RwWaiter& w, Waker waker);
  void abandon(detail::RwWaiter& w) noexcept;
  void release(bool write) noexcept;
  void release_locked(bool write, detail::WakeList& wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Grants the lock to the front of the queue as far as it can.
  void grant_locked(detail::WakeList& wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool can_take_locked(bool write) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !writer_ && (!write || readers_ == 0);
  }

  mutable std::mutex mu_;
  size_t readers_ ABSL_GUARDED_BY(mu_) = 0;  // read grants outstanding
  bool writer_ ABSL_GUARDED_BY(mu_) = false;  // a write grant outstanding
  detail::WaiterQueue waiters_ ABSL_GUARDED_BY(mu_);  // RwWaiter nodes
};

template <bool kWrite>
void RwLockGuard<kWrite>::unlock() noexcept {
  if (RwLock* l = std::exchange(lock_, nullptr)) l->release(kWrite);
}

}  // namespace weft

#endif  // WEFT_SYNC_RW_LOCK_H_
