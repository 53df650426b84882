// QueuedAwaiter: the awaiter every queue-based primitive in sync/ shares.
//
// What it is for: Barrier, Mutex, RwLock, Semaphore, Event, WaitGroup and
// Channel's send and recv each wait the same way: an awaiter that owns a
// Waiter node (sync/waiter.h) inside the waiting coroutine's frame, queues
// it through the primitive, and withdraws it if the task is destroyed. This
// template is that awaiter's shared half; each primitive keeps only what is
// its own (await_ready, the queue-or-complete step, what await_resume
// returns).
//
// Requires, of `Derived` (the primitive's awaiter, deriving publicly from
// QueuedAwaiter<Derived, Owner, Node>):
//   template <WeftPromise P> bool try_suspend(std::coroutine_handle<P> h);
//     await_suspend's work: completes the operation (false) or queues
//     `waiter_` with the task's waker (true). It may run now or, after a
//     cooperative-budget yield, when the task next runs (executor/coop.h).
//     Derived befriends its base so the base can name it.
//   await_resume() that begins with `finish_wait(what)`.
// Of `Owner` (the primitive, or its shared core), reachable by the base:
//   void abandon(Node& w) noexcept;
//     Under the primitive's lock: a node still kQueued is withdrawn
//     (WaiterQueue::cancel); a node kNotified but never consumed has its
//     outcome passed on (the lock, permits, a channel reservation, ...) and
//     is marked consumed, so a notification is never lost to a cancellation.
//
// Guarantees (the ones each primitive documents rest on these):
// - Cancellation is withdrawal: destroying the awaiter while its node is
//   queued or notified calls Owner::abandon before the node goes away, so
//   the primitive's queue never holds a dangling node and an outcome handed
//   to a cancelled task reaches the next one.
// - FIFO fairness and no lost wake-up are the primitive's: its WaiterQueue
//   is FIFO and its try_suspend decides under its lock. This template adds
//   no queue and no ordering of its own.
// - A wait yields for the cooperative budget at most once, and its
//   operation is done exactly once (DeferredOp).
//
// Memory ordering: the node's state is read with load_state() (acquire,
// pairing with WaiterQueue::notify's release store), so the outcome the
// notifier stored in the node is visible to the destructor and to
// finish_wait.
//
// Example (sync/wait_group.h):
//   class [[nodiscard]] Awaiter
//       : public detail::QueuedAwaiter<Awaiter, WaitGroup> {
//    public:
//     explicit Awaiter(WaitGroup* wg) noexcept : QueuedAwaiter(wg) {}
//     bool await_ready() const noexcept { return false; }
//     void await_resume() { finish_wait("WaitGroup"); }
//    private:
//     friend QueuedAwaiter;
//     template <detail::WeftPromise P>
//     bool try_suspend(std::coroutine_handle<P> h) {
//       return owner_->wait_or_queue(waiter_, current_waker(h));
//     }
//   };
#ifndef WEFT_SYNC_QUEUED_AWAITER_H_
#define WEFT_SYNC_QUEUED_AWAITER_H_

#include <coroutine>

#include "executor/coop.h"
#include "executor/task.h"
#include "sync/waiter.h"

namespace weft::detail {

template <class Derived, class Owner, class Node = Waiter>
class QueuedAwaiter {
 public:
  QueuedAwaiter(const QueuedAwaiter&) = delete;
  QueuedAwaiter& operator=(const QueuedAwaiter&) = delete;

  template <WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return coop_.suspend<&Derived::template try_suspend<P>>(static_cast<Derived*>(this), h);
  }

 protected:
  explicit QueuedAwaiter(Owner* owner) noexcept : owner_(owner) {}
  // Runs after Derived's members are gone; it touches only the node and
  // the owner, which live here.
  ~QueuedAwaiter() {
    if (waiter_.load_state() != WaiterState::kIdle) owner_->abandon(waiter_);
  }

  // await_resume's common start: rethrows what a deferred try_suspend
  // threw, then consumes the node. True when the wait went through the
  // queue (the node was notified), false when it completed without
  // waiting; a node still queued means a spurious wake and throws
  // (waiter.h, resumed_while_queued). `what` names the primitive in that
  // message.
  bool finish_wait(const char* what) {
    coop_.rethrow_if_failed();
    return consume_notified(waiter_, what);
  }

  Owner* owner_;
  Node waiter_;
  DeferredOp coop_;
};

}  // namespace weft::detail

#endif  // WEFT_SYNC_QUEUED_AWAITER_H_
