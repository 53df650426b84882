// Channel<T>: a multi-producer, multi-consumer channel between tasks.
//
// What it is for: passing values between tasks (and threads) with
// back-pressure. `co_await ch.send(v)` waits while a bounded channel is full;
// `co_await ch.recv()` waits while it is empty. `try_send` / `try_recv` never
// wait. `close()` ends the stream.
//
// Requires: T is move-constructible. A bounded channel has capacity >= 1
// (`Channel<T> ch(n)`); `Channel<T> ch;` is unbounded. The Channel object
// must outlive every call on it (like std::mutex); tasks still suspended in
// send/recv when it is destroyed are the exception: see below.
//
// Guarantees:
// - Every item sent is received exactly once, or is still in the channel.
//   Items from one producer are received in the order they were sent.
// - Waiting receivers are served first come, first served, and so are
//   waiting senders (a sender's value moves into the buffer the moment a slot
//   frees up, so a late sender cannot overtake it).
// - After close(): sends fail with FAILED_PRECONDITION and hand the value
//   back (SendResult<T>); receivers still get the buffered items, then
//   OUT_OF_RANGE. Tasks waiting at the moment of close are woken with those
//   results. Destroying the Channel closes it first, so its waiting tasks
//   wake up with "closed" rather than hang; they no longer touch the channel.
// - Cancellation: a task destroyed while it waits in send/recv leaves the
//   channel as if it had never waited. A receiver that was already handed an
//   item but is destroyed before it resumes gives the item back (to the next
//   waiting receiver, else to the front of the buffer): no item is lost.
// - Works under block_on, LocalExecutor and Executor, from any thread.
//
// Memory ordering: a send happens-before the receive that returns its
// value (both take the channel's mutex; a handed-over value is published by
// the release store that completes the receiver's Waiter).
//
// Implementation: one std::mutex guards the buffer (a Ring) and two FIFO
// queues of Waiter nodes that live in the awaiters. A receiver only waits
// when the buffer is empty, and a sender only when it is full, so at most one
// queue is non-empty. A send to a waiting receiver hands the value straight
// into the receiver's node; a receive from a full buffer moves the first
// waiting sender's value in behind it. The mutable state lives in a
// ChannelCore that waiting awaiters keep alive with a reference, which is
// what lets the Channel be destroyed under them.
//
// Example:
//   weft::Channel<int> ch(16);
//   weft::Task<void> produce(weft::Channel<int>& ch) {
//     for (int i = 0; i < 3; ++i) co_await ch.send(i);
//     ch.close();
//   }
//   weft::Task<int> consume(weft::Channel<int>& ch) {
//     int sum = 0;
//     for (;;) {
//       absl::StatusOr<int> v = co_await ch.recv();
//       if (!v.ok()) co_return sum;   // OUT_OF_RANGE: closed and drained
//       sum += *v;
//     }
//   }
#ifndef WEFT_SYNC_CHANNEL_H_
#define WEFT_SYNC_CHANNEL_H_

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
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

template <class T>
struct RecvWaiter : Waiter {
  // Set by the sender that hands its value over; empty once notified means
  // the channel was closed.
  std::optional<T> item;
};

template <class T>
struct SendWaiter : Waiter {
  // The value to send. Moved out by the receiver that accepts it; still
  // present once notified means the channel was closed.
  std::optional<T> value;
};

template <class T>
class ChannelCore {
 public:
  explicit ChannelCore(size_t capacity) : capacity_(capacity) {}
  ChannelCore(const ChannelCore&) = delete;
  ChannelCore& operator=(const ChannelCore&) = delete;

  // One reference for the Channel, one per queued or notified-but-unconsumed
  // awaiter.
  void retain() noexcept {
    // relaxed: the caller already holds a reference (it is inside a call on
    // the Channel, which holds one), as in ref_inc.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // acq_rel: release orders this holder's uses of the core before the
    // delete; acquire (last drop) sees every other holder's uses.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // --- receive ----------------------------------------------------------

  // Receives into `w.item` now, or queues `w`. Returns true when queued.
  template <class P>
  bool recv_or_queue(RecvWaiter<T>& w, std::coroutine_handle<P> h) {
    Waker wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pop_locked(w.item, wake) && !closed_) {
        w.waker = current_waker(h);
        retain();  // dropped when the awaiter consumes or abandons the node
        receivers_.push_back(&w);
        return true;
      }
    }
    std::move(wake).wake();
    return false;
  }

  absl::StatusOr<T> try_recv() {
    std::optional<T> item;
    Waker wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pop_locked(item, wake)) return closed_ ? recv_closed_status() : recv_empty_status();
    }
    std::move(wake).wake();
    return std::move(*item);
  }

  // A receive awaiter goes away without having consumed its node: withdraw
  // it, or give back the item it was handed.
  void abandon_recv(RecvWaiter<T>& w) noexcept {
    Waker wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // relaxed: the state leaves kQueued only under mu_, which we hold.
      if (w.state.load(std::memory_order_relaxed) == WaiterState::kQueued) {
        receivers_.cancel(&w);
      } else if (w.item) {
        give_back_locked(std::move(*w.item), wake);
        w.item.reset();
      }
      w.mark_consumed();
    }
    std::move(wake).wake();
    release();
  }

  // --- send -------------------------------------------------------------

  // Sends `w.value` now (moving it out), fails (closed: the value stays), or
  // queues `w`. Returns true when queued.
  template <class P>
  bool send_or_queue(SendWaiter<T>& w, std::coroutine_handle<P> h) {
    Waker wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closed_ && !push_locked(w.value, wake)) {
        w.waker = current_waker(h);
        retain();
        senders_.push_back(&w);
        return true;
      }
    }
    std::move(wake).wake();
    return false;
  }

  SendResult<T> try_send(T v) {
    std::optional<T> value(std::move(v));
    Waker wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return SendResult<T>::closed(std::move(*value));
      if (!push_locked(value, wake)) return SendResult<T>::full(std::move(*value));
    }
    std::move(wake).wake();
    return SendResult<T>::sent();
  }

  // A send awaiter goes away without having consumed its node. A notified
  // sender has nothing to pass on: its value is already in the buffer (or
  // the channel was closed).
  void abandon_send(SendWaiter<T>& w) noexcept {
    {
      std::lock_guard<std::mutex> lock(mu_);
      // relaxed: as in abandon_recv.
      if (w.state.load(std::memory_order_relaxed) == WaiterState::kQueued) senders_.cancel(&w);
      w.mark_consumed();
    }
    release();
  }

  // --- both -------------------------------------------------------------

  bool close() {
    WakeList wakes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      closed_ = true;
      // Receivers wait only on an empty buffer: they get "closed" (no item).
      while (Waiter* w = receivers_.pop_front()) wakes.push(WaiterQueue::notify(w));
      // Senders keep their values, which their SendResult hands back.
      while (Waiter* w = senders_.pop_front()) wakes.push(WaiterQueue::notify(w));
    }
    wakes.wake_all();
    return true;
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

  // Takes the oldest item into `out`; if that freed a slot a sender waits
  // for, moves the sender's value in and leaves its waker in `wake`.
  bool pop_locked(std::optional<T>& out, Waker& wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (buffer_.empty()) return false;
    out.emplace(buffer_.pop_front());
    if (buffer_.size() < capacity_ && !senders_.empty()) {
      auto* s = static_cast<SendWaiter<T>*>(senders_.front());
      buffer_.push_back(std::move(*s->value));
      senders_.pop_front();
      s->value.reset();  // sent
      wake = WaiterQueue::notify(s);
    }
    return true;
  }

  // Hands `v` to the first waiting receiver, or buffers it if there is room.
  // On success `v` is emptied (and a receiver's waker may be in `wake`).
  bool push_locked(std::optional<T>& v, Waker& wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!receivers_.empty()) {
      auto* r = static_cast<RecvWaiter<T>*>(receivers_.pop_front());
      r->item.emplace(std::move(*v));
      v.reset();
      wake = WaiterQueue::notify(r);
      return true;
    }
    if (buffer_.size() >= capacity_) return false;
    buffer_.push_back(std::move(*v));
    v.reset();
    return true;
  }

  // An item a cancelled receiver was handed. It is older than anything in
  // the buffer, so it goes first: to a waiting receiver (the buffer is then
  // empty), else to the front of the buffer. A bounded buffer may hold one
  // item over capacity for a while; senders see it as full until it drains.
  void give_back_locked(T&& v, Waker& wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!receivers_.empty()) {
      auto* r = static_cast<RecvWaiter<T>*>(receivers_.pop_front());
      r->item.emplace(std::move(v));
      wake = WaiterQueue::notify(r);
      return;
    }
    buffer_.push_front(std::move(v));
  }

  mutable std::mutex mu_;
  Ring<T> buffer_ ABSL_GUARDED_BY(mu_);
  WaiterQueue receivers_ ABSL_GUARDED_BY(mu_);  // RecvWaiter<T> nodes
  WaiterQueue senders_ ABSL_GUARDED_BY(mu_);    // SendWaiter<T> nodes
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  const size_t capacity_;
  std::atomic<size_t> refs_{1};
};

}  // namespace detail

template <class T>
class Channel {
 public:
  // The capacity of an unbounded channel.
  static constexpr size_t kUnbounded = SIZE_MAX;

  // An unbounded channel: send never waits.
  Channel() : core_(new detail::ChannelCore<T>(kUnbounded)) {}
  // A bounded channel holding at most `capacity` (>= 1) items.
  explicit Channel(size_t capacity) : core_(new detail::ChannelCore<T>(check(capacity))) {}
  // Closes the channel: waiting tasks wake up with "closed".
  ~Channel() {
    core_->close();
    core_->release();
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  class [[nodiscard]] SendAwaiter {
   public:
    SendAwaiter(detail::ChannelCore<T>* core, T value) : core_(core) {
      waiter_.value.emplace(std::move(value));
    }
    SendAwaiter(const SendAwaiter&) = delete;
    SendAwaiter& operator=(const SendAwaiter&) = delete;
    ~SendAwaiter() {
      if (waiter_.load_state() != detail::WaiterState::kIdle) core_->abandon_send(waiter_);
    }

    bool await_ready() const noexcept { return false; }
    template <detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) {
      return core_->send_or_queue(waiter_, h);
    }
    SendResult<T> await_resume() {
      consume(waiter_, core_, "channel send");
      if (waiter_.value) return SendResult<T>::closed(std::move(*waiter_.value));
      return SendResult<T>::sent();
    }

   private:
    detail::ChannelCore<T>* core_;
    detail::SendWaiter<T> waiter_;
  };

  class [[nodiscard]] RecvAwaiter {
   public:
    explicit RecvAwaiter(detail::ChannelCore<T>* core) noexcept : core_(core) {}
    RecvAwaiter(const RecvAwaiter&) = delete;
    RecvAwaiter& operator=(const RecvAwaiter&) = delete;
    ~RecvAwaiter() {
      if (waiter_.load_state() != detail::WaiterState::kIdle) core_->abandon_recv(waiter_);
    }

    bool await_ready() const noexcept { return false; }
    template <detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) {
      return core_->recv_or_queue(waiter_, h);
    }
    absl::StatusOr<T> await_resume() {
      consume(waiter_, core_, "channel recv");
      if (!waiter_.item) return recv_closed_status();
      absl::StatusOr<T> r(std::move(*waiter_.item));
      waiter_.item.reset();
      return r;
    }

   private:
    detail::ChannelCore<T>* core_;
    detail::RecvWaiter<T> waiter_;
  };

  // `co_await ch.send(v)`: waits while the channel is full. SendResult<T>:
  // ok, or closed with the value back.
  SendAwaiter send(T value) { return SendAwaiter(core_, std::move(value)); }
  // `co_await ch.recv()`: waits while the channel is empty and open. The
  // item, or OUT_OF_RANGE once closed and drained.
  RecvAwaiter recv() noexcept { return RecvAwaiter(core_); }

  // Never waits. SendResult<T>: ok, full (UNAVAILABLE) or closed, with the
  // value back when not ok.
  SendResult<T> try_send(T value) { return core_->try_send(std::move(value)); }
  // Never waits. The item, UNAVAILABLE when empty, OUT_OF_RANGE when
  // closed and drained.
  absl::StatusOr<T> try_recv() { return core_->try_recv(); }

  // Closes the channel (see the guarantees above). Returns false if it was
  // already closed.
  bool close() { return core_->close(); }
  bool is_closed() const { return core_->is_closed(); }
  // Items buffered right now (a snapshot).
  size_t size() const { return core_->size(); }
  // kUnbounded for an unbounded channel.
  size_t capacity() const noexcept { return core_->capacity(); }

 private:
  static size_t check(size_t capacity) {
    if (capacity == 0) {
      throw std::invalid_argument(
          "weft: a bounded Channel needs capacity >= 1 (Channel<T>() is unbounded)");
    }
    return capacity;
  }
  // An awaiter resumed: if it had queued, its node was notified; take it
  // off the books and drop the reference it held on the core.
  static void consume(detail::Waiter& w, detail::ChannelCore<T>*& core, const char* what) {
    switch (w.load_state()) {
      case detail::WaiterState::kIdle:  // completed without waiting
        return;
      case detail::WaiterState::kQueued:
        detail::resumed_while_queued(what);
      case detail::WaiterState::kNotified:
        w.mark_consumed();
        core->release();  // may free the core if the Channel is gone
        core = nullptr;
        return;
    }
  }

  detail::ChannelCore<T>* core_;
};

}  // namespace weft

#endif  // WEFT_SYNC_CHANNEL_H_
