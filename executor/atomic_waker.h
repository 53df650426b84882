// AtomicWaker: a slot that holds at most one Waker, filled by the side that
// waits and emptied by the side that wakes, from any thread, without a lock.
//
// What it is for: every "a leaf waits for one event" handshake in weft (the
// JoinHandle's join slot, a timer entry, a blocking job) is the same
// protocol: the awaiting task stores its Waker, the event's thread takes it
// and wakes it, and an await that is cancelled takes it back. This is that
// protocol, written once.
//
// Requires (the owner's side): register_waker() and withdraw() are called by
// one side at a time: the awaiter that owns the slot (they are not
// concurrent with each other; a second registration racing the first
// aborts, naming the mistake). take(), wake() and close() may be called from
// any thread, concurrently with each other and with the owner's side.
//
// Guarantees:
// - Re-registrable: a registration replaces (and drops) the previous Waker;
//   withdraw() drops it. An awaiter's destructor withdraws, so a cancelled
//   await leaves the slot free for a later one.
// - No lost wake: a take()/close() that overlaps register_waker() makes that
//   register_waker() return false (the awaiter must not suspend; it looks at
//   its condition again), and one that comes after it takes the new Waker.
// - close() is terminal: it takes the Waker like take(), and from then on
//   register_waker() returns false at once and closed() is true. A one-shot
//   event (a task finishing, a timer firing, a job completing) closes.
// - A wake is one read-modify-write of the state word (fetch_or), plus the
//   task's own wake.
//
// Memory ordering: everything the closing thread wrote before close() is
// visible to a thread that then sees closed() == true, or whose
// register_waker() returned false because of it. A Waker registered is
// visible (whole) to the take()/close() that takes it.
//
// The state word, bit by bit:
//   kRegistering  the owner is writing waker_. Set and cleared only by the
//                 owner (register_waker / withdraw).
//   kWaking       a take()/close() is reading waker_, or arrived while the
//                 owner was writing it and left the Waker to the owner.
//                 Set by take()/close(); cleared by take() when done, or by
//                 the owner when it finds it on leaving kRegistering. After
//                 close() it may stay set for ever (harmless: kClosed rules).
//   kClosed       close() happened. Never cleared.
// waker_ is accessed only by the side that moved the word from 0 to a state
// with its own bit set (kRegistering, or kWaking/kClosed from 0), so it is
// never touched by two threads at once.
//
// (Anchors: futures-rs's AtomicWaker register/take/wake, and async-task's
// Header::register with its REGISTERING/NOTIFYING bits; close() is the
// one-shot "the task completed" of async-task folded into the same word.)
//
// Example:
//   AtomicWaker slot;                     // shared by waiter and event
//   // awaiter, in await_suspend(h):
//   if (!slot.register_waker(current_waker(h))) return false;  // don't wait
//   return true;
//   // awaiter's destructor:  slot.withdraw();
//   // the event, any thread: publish the result, then  slot.close().wake();
#ifndef WEFT_EXECUTOR_ATOMIC_WAKER_H_
#define WEFT_EXECUTOR_ATOMIC_WAKER_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "executor/atomic.h"
#include "executor/waker.h"

namespace weft {

class AtomicWaker {
 public:
  AtomicWaker() noexcept = default;
  AtomicWaker(const AtomicWaker&) = delete;
  AtomicWaker& operator=(const AtomicWaker&) = delete;
  ~AtomicWaker() = default;  // drops a Waker still registered

  // Stores `w` for the next take()/close(), replacing the previous Waker.
  // Returns false (and drops `w`) when the slot is closed or a take()/close()
  // overlapped: the caller must not suspend.
  bool register_waker(Waker w) noexcept {
    uint32_t s = 0;
    // acquire: pairs with the release that last gave up waker_ (take()'s
    // fetch_and, or the owner's own CAS / fetch_and below), so our write of
    // waker_ comes after every earlier read of it. On failure, acquire pairs
    // with close()'s release: the caller may read what the closer published.
    if (!state_.compare_exchange_strong(s, kRegistering, std::memory_order_acquire,
                                        std::memory_order_acquire)) {
      if (!(s & kClosed) && (s & kRegistering)) {
        std::fprintf(stderr, "weft: an AtomicWaker was registered by two awaiters at once\n");
        std::abort();
      }
      return false;  // closed, or a take() is emptying the slot: look again
    }
    Waker old = std::exchange(waker_, std::move(w));
    s = kRegistering;
    // acq_rel: release publishes waker_ to the fetch_or of take()/close()
    // (acquire) that will read it. On failure, acquire pairs with the
    // release half of that fetch_or (close(): the result it published).
    if (state_.compare_exchange_strong(s, 0, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      return true;
    }
    // A take()/close() came while we wrote and left the Waker to us: we
    // don't suspend, which is as good as being woken.
    Waker mine = std::move(waker_);
    // acq_rel: release pairs with the next register_waker's acquire CAS (our
    // move out of waker_ is done); keeps kClosed, clears our bit and kWaking.
    state_.fetch_and(kClosed, std::memory_order_acq_rel);
    return false;
  }

  // Drops the registered Waker, if it is still there (the awaiter goes away
  // without having been woken). A take()/close() that got it first wakes
  // it; a wake of a suspension that is over is a no-op (waker.h).
  void withdraw() noexcept {
    // Closed: the closer took the Waker, nothing is left to drop. A plain
    // load, so the common "the event already happened" case (a JoinHandle
    // released after its task finished) costs no read-modify-write.
    if (closed()) return;
    static_cast<void>(register_waker(Waker()));
  }

  // Removes the registered Waker and returns it (empty if none, or if the
  // owner is registering right now: that registration then returns false).
  Waker take() noexcept {
    // acq_rel: acquire pairs with register_waker's release CAS (waker_ is
    // whole); release pairs with a concurrent register_waker's failing CAS.
    if (state_.fetch_or(kWaking, std::memory_order_acq_rel) != 0) return Waker();
    Waker w = std::move(waker_);
    // release: pairs with the next register_waker's acquire CAS.
    state_.fetch_and(~kWaking, std::memory_order_release);
    return w;
  }
  // take(), then wakes it.
  void wake() noexcept { take().wake(); }

  // Closes the slot for good and returns the registered Waker (if any), for
  // the caller to wake. Call it after publishing whatever the waiter reads.
  Waker close() noexcept {
    // acq_rel: release publishes the caller's earlier writes to closed()'s
    // acquire and to a failing register_waker's acquire; acquire pairs with
    // register_waker's release CAS (waker_ is whole).
    if (state_.fetch_or(kClosed | kWaking, std::memory_order_acq_rel) != 0) return Waker();
    // Every later operation sees kClosed and leaves waker_ alone: no release
    // needed, the slot stays in kClosed | kWaking.
    return std::move(waker_);
  }

  bool closed() const noexcept {
    // acquire: pairs with close()'s release.
    return (state_.load(std::memory_order_acquire) & kClosed) != 0;
  }

  // Blocks the calling thread until close() (for a thread that is not a
  // task). The closer must call notify_blocked() after close().
  void wait_closed() const noexcept {
    // acquire: pairs with close()'s release; atomic::wait re-reads the
    // word, so a close() between the load and the wait is not missed.
    for (uint32_t s = state_.load(std::memory_order_acquire); !(s & kClosed);
         s = state_.load(std::memory_order_acquire)) {
      state_.wait(s, std::memory_order_acquire);
    }
  }
  // Wakes the threads in wait_closed() (cheap when there are none).
  void notify_blocked() noexcept { state_.notify_all(); }

 private:
  static constexpr uint32_t kRegistering = 1;
  static constexpr uint32_t kWaking = 2;
  static constexpr uint32_t kClosed = 4;

  // waker_ first, state_ last: the 4 bytes after state_ are tail padding,
  // which a [[no_unique_address]] AtomicWaker member lends to the members
  // that follow it (TaskHeader packs its flags there).
  Waker waker_;  // see "waker_ is accessed only by..." above
  weft::atomic<uint32_t> state_{0};
};

}  // namespace weft

#endif  // WEFT_EXECUTOR_ATOMIC_WAKER_H_
