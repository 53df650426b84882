// Event: lets tasks wait until another task or thread notifies them.
//
// What it is for: "something changed, look again" signals, the async
// counterpart of a condition variable (tokio's Notify). Pair it with state
// the waiter re-checks.
//
// Requires: the Event outlives every task waiting on it (destroying it with
// a waiter aborts with a message). notify_one / notify_all from any thread.
//
// Guarantees (no lost notifications):
// - notify_one() wakes the longest-waiting task; if none waits, it leaves a
//   permit that the next wait() consumes at once. Permits do not add up:
//   several notify_one() with nobody waiting leave one.
// - notify_all() wakes every task waiting at that moment, and also every
//   wait() awaiter created before the call, even if it has not been awaited
//   yet. So create the awaiter before checking the condition, and a
//   notify_all() between the check and the co_await is not missed:
//       auto changed = event.wait();
//       if (!ready()) co_await changed;
//   notify_all() leaves no permit for later awaiters.
// - Cancellation: a task destroyed while it waits leaves the queue; one
//   destroyed after a notify_one() chose it, before it resumed, passes that
//   notification on (to the next waiter, or as the permit).
// - Works under block_on, LocalExecutor and Executor, from any thread.
//
// Memory ordering: what the notifier wrote before notify_one()/notify_all()
// is visible to the tasks that notification wakes (the internal std::mutex,
// and the release store that completes each waiter).
//
// Example:
//   weft::Event changed;
//   // consumer:                              // producer:
//   for (;;) {                                //   queue.push(x);
//     auto w = changed.wait();                //   changed.notify_one();
//     if (auto x = queue.try_pop()) use(*x); else co_await w;
//   }
#ifndef WEFT_SYNC_EVENT_H_
#define WEFT_SYNC_EVENT_H_

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "executor/waker.h"
#include "sync/queued_awaiter.h"
#include "sync/waiter.h"

namespace weft {

namespace detail {
struct EventWaiter : Waiter {
  // Set by the notifier: chosen by notify_one (true: the notification must
  // be passed on if this waiter is cancelled) or woken by notify_all.
  bool by_one = false;
};
}  // namespace detail

class Event {
 public:
  Event() = default;
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  class [[nodiscard]] Awaiter : public detail::QueuedAwaiter<Awaiter, Event, detail::EventWaiter> {
   public:
    explicit Awaiter(Event* e) noexcept
        // acquire: pairs with notify_all's release increment, so a
        // notify_all that happened before this awaiter is not counted twice.
        : QueuedAwaiter(e), epoch_(e->epoch_.load(std::memory_order_acquire)) {}
    bool await_ready() const noexcept { return false; }
    void await_resume() { finish_wait("Event"); }

   private:
    friend QueuedAwaiter;
    // await_suspend's work (sync/queued_awaiter.h): true when queued.
    template <detail::WeftPromise P>
    bool try_suspend(std::coroutine_handle<P> h) {
      return owner_->wait_or_queue(waiter_, epoch_, current_waker(h));
    }

    uint64_t epoch_;  // notify_all() calls seen when the awaiter was made
  };

  // An awaiter that completes on the next notification (see above).
  Awaiter wait() noexcept { return Awaiter(this); }
  void notify_one() noexcept;
  void notify_all() noexcept;

 private:
  // Completes at once (false: a permit, or a notify_all since `epoch`) or
  // queues `w` (true).
  // The shared awaiter calls abandon() when a waiting task is destroyed.
  template <class, class, class>
  friend class detail::QueuedAwaiter;
  bool wait_or_queue(detail::EventWaiter& w, uint64_t epoch, Waker waker);
  void abandon(detail::EventWaiter& w) noexcept;
  // notify_one's work: returns the waker to wake after unlocking.
  Waker notify_one_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable std::mutex mu_;
  bool permit_ ABSL_GUARDED_BY(mu_) = false;
  detail::WaiterQueue waiters_ ABSL_GUARDED_BY(mu_);  // EventWaiter nodes
  // How many notify_all() calls there were. Incremented under mu_ (release);
  // read without it when an awaiter is made (acquire), and under it.
  std::atomic<uint64_t> epoch_{0};
};

}  // namespace weft

#endif  // WEFT_SYNC_EVENT_H_
