// ChannelCore<T>: the shared state behind Channel<T> (sync/channel.h) and
// the Sender / Receiver handles (sync/sender_receiver.h). Internal: use
// those; this header holds the buffer, the waiter queues and the rules
// that keep them consistent.
//
// Implementation: one std::mutex guards the buffer (a Ring) and two FIFO
// queues of Waiter nodes that live in the awaiters. Items always stay in the
// buffer, in order: waking a receiver reserves the front unreserved item for
// it (`reserved_` counts those), and the receiver takes the front item when
// it resumes; a cancelled receiver just gives its reservation up. A receive
// that finds an item without waiting reserves it the same way and takes it
// in await_resume, so every receive moves T once (FrontTake), straight into
// the value it returns. A sender
// waits only while the buffer is full, and its value moves in as soon as
// there is room. settle_locked() restores these rules after every change.
// The mutable state lives in a ChannelCore that queued and notified awaiters
// keep alive by a reference, which is what lets the Channel be destroyed
// under them.
#ifndef WEFT_SYNC_CHANNEL_CORE_H_
#define WEFT_SYNC_CHANNEL_CORE_H_

#include <coroutine>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "executor/task.h"
#include "executor/waker.h"
#include "sync/channel_result.h"
#include "sync/ring.h"
#include "sync/waiter.h"

namespace weft {

namespace detail {

struct RecvWaiter : Waiter {
  // Set by the notifier: true when an item in the buffer is reserved for
  // this receiver, false when the channel is closed and drained. Also set
  // by the receiver itself when it finds an item without waiting.
  bool reserved = false;
};

template <class T>
struct SendWaiter : Waiter {
  // The value to send. Moved into the buffer by the receiver that made
  // room; still present once notified means the channel was closed, or
  // that moving it in threw (`error`).
  std::optional<T> value;
  // Set by the notifier when moving `value` into the buffer threw: the
  // sender rethrows it.
  std::exception_ptr error;
};

template <class T>
class ChannelCore {
 public:
  explicit ChannelCore(size_t capacity) : capacity_(capacity) {}
  ChannelCore(const ChannelCore&) = delete;
  ChannelCore& operator=(const ChannelCore&) = delete;

  // The Channel's destructor: closes, then drops the Channel's reference.
  void close_and_release() noexcept {
    WakeList wakes;
    bool last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      close_locked(wakes);
      last = unref_locked();
    }
    wakes.wake_all();
    if (last) delete this;
  }

  // Takes a reference (dropped with release_notified): the handles of
  // sender_receiver.h keep the core alive across the drop of a handle.
  void ref() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    ++refs_;
  }

  // A queued awaiter that was notified and has nothing to take from the
  // core (a sender, or a receiver told "closed") drops its reference.
  void release_notified() noexcept {
    bool last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last = unref_locked();
    }
    if (last) delete this;
  }

  // --- receive ----------------------------------------------------------

  // Finds an item for `w` now (reserves it, as a notifier would, and
  // marks `w` notified: the awaiter takes it with take_reserved), finds the
  // channel closed and drained (`w` stays idle), or queues `w`. Returns
  // true when queued. Either way the item is moved only once, by the
  // take, straight into the value the receive returns.
  template <class P>
  bool recv_or_queue(RecvWaiter& w, std::coroutine_handle<P> h) {
    std::lock_guard<std::mutex> lock(mu_);
    if (buffer_.size() > reserved_) {
      ++reserved_;
      ++refs_;  // dropped by take_reserved, or abandon if cancelled
      w.reserved = true;
      // relaxed: our own node, never queued; the owner (us) reads it next.
      w.state.store(WaiterState::kNotified, std::memory_order_relaxed);
      return false;
    }
    if (drained_locked()) return false;
    w.waker = current_waker(h);
    ++refs_;  // dropped when the awaiter consumes or abandons the node
    receivers_.push_back(&w);
    return true;
  }

  // A receiver with a reservation takes the front item (reserved_ <= size,
  // so there is one) and drops its reference, also when the move throws:
  // the item then stays first in line and the reservation passes on.
  absl::StatusOr<T> take_reserved() {
    FrontTake take(*this, /*reserved=*/true);
    // A prvalue: T is moved once, into the caller's object.
    return absl::StatusOr<T>(std::move(buffer_.front()));
  }

  absl::StatusOr<T> try_recv() {
    FrontTake take(*this, /*reserved=*/false);
    if (buffer_.size() <= reserved_) {
      take.nothing_to_take();
      return drained_locked() ? recv_closed_status() : recv_empty_status();
    }
    return absl::StatusOr<T>(std::move(buffer_.front()));
  }

  // A receive awaiter goes away without having consumed its node: withdraw
  // it, or give up its reservation, which passes to the next receiver; and
  // drop its reference.
  void abandon(RecvWaiter& w) noexcept {
    WakeList wakes;
    bool last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // relaxed: the state leaves kQueued only under mu_, which we hold.
      if (w.state.load(std::memory_order_relaxed) == WaiterState::kQueued) {
        receivers_.cancel(&w);
      } else if (w.reserved) {
        --reserved_;
        settle_locked(wakes);
      }
      w.mark_consumed();
      last = unref_locked();
    }
    wakes.wake_all();
    if (last) delete this;
  }

  // --- send -------------------------------------------------------------

  // Sends `w.value` now (moving it out), fails (closed: the value stays), or
  // queues `w`. Returns true when queued.
  template <class P>
  bool send_or_queue(SendWaiter<T>& w, std::coroutine_handle<P> h) {
    WakeList wakes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closed_) {
        if (buffer_.size() >= capacity_) {
          w.waker = current_waker(h);
          ++refs_;  // dropped when the awaiter consumes or abandons the node
          senders_.push_back(&w);
          return true;
        }
        buffer_.push_back(std::move(*w.value));
        w.value.reset();
        settle_locked(wakes);
      }
    }
    wakes.wake_all();
    return false;
  }

  SendResult<T> try_send(T v) {
    WakeList wakes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return SendResult<T>::closed(std::move(v));
      if (buffer_.size() >= capacity_) return SendResult<T>::full(std::move(v));
      buffer_.push_back(std::move(v));
      settle_locked(wakes);
    }
    wakes.wake_all();
    return SendResult<T>::sent();
  }

  // A send awaiter goes away without having consumed its node, and drops
  // its reference. A notified sender has nothing to pass on: its value is
  // already in the buffer (or the channel was closed and it keeps it).
  void abandon(SendWaiter<T>& w) noexcept {
    bool last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // relaxed: as in abandon(RecvWaiter&).
      if (w.state.load(std::memory_order_relaxed) == WaiterState::kQueued) senders_.cancel(&w);
      w.mark_consumed();
      last = unref_locked();
    }
    if (last) delete this;
  }

  // --- both -------------------------------------------------------------

  bool close() {
    WakeList wakes;
    bool closed_now;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_now = close_locked(wakes);
    }
    wakes.wake_all();
    return closed_now;
  }

  bool is_closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return buffer_.size();
  }
  size_t capacity() const noexcept { return capacity_; }

 private:
  ~ChannelCore() = default;

  bool close_locked(WakeList& wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (closed_) return false;
    closed_ = true;
    // Waiting senders keep their values, which their SendResult hands back.
    while (Waiter* w = senders_.pop_front()) wakes.push(WaiterQueue::notify(w));
    settle_locked(wakes);  // receivers: "closed" once the buffer is drained
    return true;
  }

  // Finishes a receive that moves the front item out while holding mu_.
  // RAII, so that a throwing move of T cannot skip it: constructed (taking
  // mu_) before the move, destroyed after it or while its exception
  // unwinds. Removes the item only if the move succeeded (else it stays
  // first in line); gives up the receiver's reservation and drops its
  // reference if it had one; restores the invariants (a waiting receiver
  // gets the item back, a waiting sender the room) and wakes whoever that
  // names once mu_ is released.
  class FrontTake {
   public:
    FrontTake(ChannelCore& core, bool reserved)
        : core_(core),
          lock_(core.mu_),
          reserved_(reserved),
          exceptions_(std::uncaught_exceptions()) {}
    FrontTake(const FrontTake&) = delete;
    FrontTake& operator=(const FrontTake&) = delete;
    // try_recv found nothing to take (only with reserved == false).
    void nothing_to_take() noexcept { taking_ = false; }
    ~FrontTake() {
      const bool moved = std::uncaught_exceptions() == exceptions_;
      if (taking_ && moved) core_.buffer_.drop_front();
      bool last = false;
      if (reserved_) {
        --core_.reserved_;
        last = core_.unref_locked();
      }
      if (taking_) core_.settle_locked(wakes_);
      lock_.unlock();
      wakes_.wake_all();
      if (last) delete &core_;  // nobody else can reach it any more
    }

   private:
    ChannelCore& core_;
    std::unique_lock<std::mutex> lock_;
    const bool reserved_;
    const int exceptions_;  // in flight when the take began
    bool taking_ = true;
    WakeList wakes_;
  };

  // Drops a reference; true when it was the last: the caller deletes the
  // core once it has released mu_ (nobody else can reach it any more).
  bool unref_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return --refs_ == 0; }

  // Closed, and no item left, not even one reserved by a receiver that may
  // still be cancelled and pass it on.
  bool drained_locked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ && buffer_.empty();
  }

  // Restores the invariants after any change, collecting wakers:
  //   - a waiting sender exists only while the buffer is full;
  //   - a waiting receiver exists only while every buffered item is
  //     reserved, and only until the channel is closed and drained.
  // Waiting senders are served in order, their values appended as room
  // frees up; waiting receivers in order, each reserving the next item.
  void settle_locked(WakeList& wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (buffer_.size() < capacity_ && !senders_.empty()) {
      // Safety: senders_ holds only the SendWaiter<T> of SendAwaiters.
      auto* s = static_cast<SendWaiter<T>*>(senders_.pop_front());
      try {
        buffer_.push_back(std::move(*s->value));  // leaves the ring as it was if it throws
        s->value.reset();  // sent
      } catch (...) {
        // Not swallowed: the sender's await rethrows it. The receive that
        // made room (our caller) goes on.
        s->error = std::current_exception();
      }
      wakes.push(WaiterQueue::notify(s));
    }
    while (buffer_.size() > reserved_ && !receivers_.empty()) {
      // Safety: receivers_ holds only the RecvWaiter of RecvAwaiters.
      auto* r = static_cast<RecvWaiter*>(receivers_.pop_front());
      r->reserved = true;
      ++reserved_;
      wakes.push(WaiterQueue::notify(r));
    }
    if (drained_locked()) {
      while (Waiter* r = receivers_.pop_front()) wakes.push(WaiterQueue::notify(r));
    }
  }

  mutable std::mutex mu_;
  Ring<T> buffer_ ABSL_GUARDED_BY(mu_);
  // Items at the front of buffer_ promised to notified receivers that have
  // not resumed yet. Always <= buffer_.size().
  size_t reserved_ ABSL_GUARDED_BY(mu_) = 0;
  WaiterQueue receivers_ ABSL_GUARDED_BY(mu_);  // RecvWaiter nodes
  WaiterQueue senders_ ABSL_GUARDED_BY(mu_);    // SendWaiter<T> nodes
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  const size_t capacity_;
  // Holders of the core: the Channel, and each awaiter from the moment it
  // queues until it has consumed or abandoned its node (so a Channel can be
  // destroyed under waiting tasks). Every change happens under mu_ anyway,
  // so the count is a plain integer guarded by it, not an atomic.
  size_t refs_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace detail

}  // namespace weft

#endif  // WEFT_SYNC_CHANNEL_CORE_H_
