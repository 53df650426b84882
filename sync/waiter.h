// Waiter, WaiterQueue, WakeList: the parts every primitive in sync/ shares.
//
// What it is for: a task that must wait for a channel, lock, semaphore, ...
// puts a Waiter node in that primitive's queue. The node lives inside the
// awaiter object, which lives in the waiting coroutine's frame, so a wait
// allocates nothing. The primitive's own std::mutex guards its queue.
//
// The life of a Waiter (WaiterState):
//
//   kIdle ──queue (owner, under the lock)──▶ kQueued
//   kQueued ──cancel (owner, under the lock)──▶ kIdle
//   kQueued ──notify (anyone, under the lock)──▶ kNotified
//   kNotified ──consume (owner, after it resumed or while it is destroyed)──▶ kIdle
//
// A notifier first stores the outcome in the node (the item, the lock, the
// permits, "closed"), then moves the waker out and publishes kNotified with a
// release store: that store is its last touch of the node, because the owner
// may be destroyed (cancelled) on another thread the moment it can see
// kNotified. The owner reads the state with an acquire load, so it sees the
// outcome. If the owner is destroyed while kNotified, it owns whatever was
// handed to it and must pass it on (a channel reservation, the lock, permits,
// a notify_one, to the next waiter): a notification is never lost to a
// cancellation.
//
// A waker taken from a node is woken exactly once, after the primitive's
// lock is released (STYLE.md habit 6). weft resumes a task at whatever
// co_await it is suspended in when woken, so a primitive never wakes a task
// for anything but the completion of the wait it queued for.
#ifndef WEFT_SYNC_WAITER_H_
#define WEFT_SYNC_WAITER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "executor/waker.h"

namespace weft {
namespace detail {

enum class WaiterState : uint8_t {
  kIdle,      // not in a queue: not yet suspended, cancelled, or consumed
  kQueued,    // in the primitive's queue, waiting
  kNotified,  // taken off the queue; the outcome is in the node
};

struct Waiter {
  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Owner side: the state with acquire, pairing with notify()'s release
  // store, so the outcome written before it is visible.
  WaiterState load_state() const noexcept { return state.load(std::memory_order_acquire); }
  // Owner side, after consuming a kNotified outcome (the node is off every
  // queue; nobody else touches it any more).
  void mark_consumed() noexcept { state.store(WaiterState::kIdle, std::memory_order_relaxed); }

  // Queue links. Written only under the owning primitive's lock.
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  // Set by the owner before it queues the node; moved out by the notifier
  // (under the lock), or dropped by the owner when it cancels.
  Waker waker;
  // See the diagram above. Changed from kQueued only under the lock; read
  // without it by the owner.
  std::atomic<WaiterState> state{WaiterState::kIdle};
};

// A waiter was resumed while still queued. A Waker kept from an earlier
// suspension cannot do this any more (it is inert once the task ran again,
// waker.h); only an awaiter of the same run that took the task's Waker,
// did not suspend, and left it registered somewhere can. A C++ awaiter
// cannot suspend again from await_resume, so it throws; the awaiter's destructor, run while the
// exception unwinds, withdraws the node, so the primitive stays consistent.
[[noreturn]] inline void resumed_while_queued(const char* what) {
  throw std::logic_error(std::string("weft: a task waiting on a ") + what +
                         " was resumed before it was notified: an awaiter that did not "
                         "suspend left this task's Waker registered");
}

// Owner side, in await_resume: whether the wait went through the queue.
// A notified node is marked consumed (true); an idle one completed without
// waiting (false); a node still queued means a spurious wake (throws).
inline bool consume_notified(Waiter& w, const char* what) {
  switch (w.load_state()) {
    case WaiterState::kIdle:
      return false;
    case WaiterState::kQueued:
      resumed_while_queued(what);
    case WaiterState::kNotified:
      break;
  }
  w.mark_consumed();
  return true;
}

// A FIFO of waiters, intrusive. Not thread-safe: the owning primitive's
// mutex guards it.
class WaiterQueue {
 public:
  WaiterQueue() = default;
  WaiterQueue(const WaiterQueue&) = delete;
  WaiterQueue& operator=(const WaiterQueue&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  size_t size() const noexcept { return size_; }
  Waiter* front() const noexcept { return head_; }

  // Queues `w` (owner side). relaxed: under the lock, which orders it for
  // every other reader; the owner itself wrote it.
  void push_back(Waiter* w) noexcept {
    w->prev = tail_;
    w->next = nullptr;
    if (tail_) tail_->next = w; else head_ = w;
    tail_ = w;
    ++size_;
    w->state.store(WaiterState::kQueued, std::memory_order_relaxed);
  }

  // Unlinks `w`, which must be queued. Does not change its state.
  void unlink(Waiter* w) noexcept {
    if (w->prev) w->prev->next = w->next; else head_ = w->next;
    if (w->next) w->next->prev = w->prev; else tail_ = w->prev;
    w->prev = w->next = nullptr;
    --size_;
  }

  // The owner withdraws a queued waiter (cancellation). Drops its waker.
  void cancel(Waiter* w) noexcept {
    unlink(w);
    // relaxed: under the lock; the owner is the only later reader.
    w->state.store(WaiterState::kIdle, std::memory_order_relaxed);
    w->waker = Waker();
  }

  // Unlinks the front waiter for a notifier, who then stores the outcome
  // and calls notify(). Null when empty.
  Waiter* pop_front() noexcept {
    Waiter* w = head_;
    if (w) unlink(w);
    return w;
  }

  // Completes a waiter taken off the queue (its outcome already stored):
  // returns its waker, to be woken after the lock is released. The node
  // must not be touched after this call.
  static Waker notify(Waiter* w) noexcept {
    Waker waker = std::move(w->waker);
    // release: pairs with the owner's acquire in load_state(): publishes
    // the outcome stored in the node before this.
    w->state.store(WaiterState::kNotified, std::memory_order_release);
    return waker;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  size_t size_ = 0;
};

// Wakers collected under a lock and woken after it is released.
class WakeList {
 public:
  WakeList() = default;
  WakeList(const WakeList&) = delete;
  WakeList& operator=(const WakeList&) = delete;
  ~WakeList() { wake_all(); }  // a backstop; callers wake explicitly

  void push(Waker w) {
    if (count_ < kInline) {
      inline_[count_++] = std::move(w);
    } else {
      overflow_.push_back(std::move(w));
    }
  }
  // Call with no lock held.
  void wake_all() noexcept {
    for (size_t i = 0; i < count_; ++i) std::move(inline_[i]).wake();
    count_ = 0;
    for (Waker& w : overflow_) std::move(w).wake();
    overflow_.clear();
  }

 private:
  // Enough for the common notify_all / close without touching the heap;
  // more spill into `overflow_` (tokio's WakeList holds 32 for the same
  // reason; ours is smaller because a WakeList lives on the stack).
  static constexpr size_t kInline = 16;
  Waker inline_[kInline];
  size_t count_ = 0;
  std::vector<Waker> overflow_;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_SYNC_WAITER_H_
