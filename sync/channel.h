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
//   A receiver gets items in the order they entered the channel, so the
//   items of one producer reach each receiver in the order they were sent.
// - Waiting receivers are served first come, first served, and so are
//   waiting senders (a waiting sender's value moves into the buffer the
//   moment a slot frees up, so a later sender cannot overtake it). A new
//   receiver never takes an item promised to a waiting one.
// - After close(): sends fail with FAILED_PRECONDITION and hand the value
//   back (SendResult<T>); receivers still get the buffered items, then
//   OUT_OF_RANGE. Tasks waiting at the moment of close are woken with those
//   results. Destroying the Channel closes it first, so its waiting tasks
//   wake up with "closed" rather than hang (they keep the channel's state
//   alive until they have resumed; the Channel object itself is gone).
// - Cancellation: a task destroyed while it waits in send/recv leaves the
//   channel as if it had never waited. A receiver that was already promised
//   an item but is destroyed before it resumes passes the promise to the
//   next waiting receiver: the item stays in the channel, in its place.
// - A T whose move constructor throws: a receive moves the item out of the
//   channel exactly once, into the value it returns. If that move throws,
//   the exception reaches the receiver (co_await ch.recv() or try_recv()
//   throws it) and the item stays in the channel, first in line, for the
//   next receive (a waiting receiver is woken for it), as if this receive
//   had never happened. (If T's move modified its source before throwing,
//   the item left is what the move left of it.) A send whose move into the
//   channel throws fails with that exception: the value never entered the
//   channel and is destroyed with the send; this includes a waiting
//   sender, whose value moves in when a receive makes room. Every path
//   drops the references it holds on the channel's state either way.
// - Works under block_on, LocalExecutor and Executor, from any thread.
// - A send or receive that completes without waiting counts against the
//   task's cooperative budget (executor/coop.h): with none left, it yields
//   first and sends / receives when the task next runs (then waiting if it
//   must).
//
// Memory ordering: a send happens-before the receive that returns its
// value (both take the channel's mutex).
//
// Implementation: sync/channel_core.h.
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

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include "absl/status/statusor.h"
#include "executor/task.h"
#include "sync/channel_core.h"
#include "sync/channel_result.h"
#include "sync/queued_awaiter.h"

namespace weft {

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
  ~Channel() { core_->close_and_release(); }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  class [[nodiscard]] SendAwaiter
      : public detail::QueuedAwaiter<SendAwaiter, detail::ChannelCore<T>, detail::SendWaiter<T>> {
    using Base = detail::QueuedAwaiter<SendAwaiter, detail::ChannelCore<T>, detail::SendWaiter<T>>;

   public:
    SendAwaiter(detail::ChannelCore<T>* core, T value) : Base(core) {
      this->waiter_.value.emplace(std::move(value));
    }
    // Movable until it is awaited (when_any / timeout move an operation into
    // the task that awaits it: sync/awaitable.h).
    SendAwaiter(SendAwaiter&& o) : Base(o.owner_) {
      check_unawaited(o.waiter_);
      this->waiter_.value = std::move(o.waiter_.value);
      o.waiter_.value.reset();
    }

    bool await_ready() const noexcept { return false; }
    SendResult<T> await_resume() {
      if (this->finish_wait("channel send")) this->owner_->release_notified();
      detail::SendWaiter<T>& w = this->waiter_;
      // Moving the value into the channel threw (when a receive made room):
      // the send fails with that exception.
      if (w.error) std::rethrow_exception(std::exchange(w.error, nullptr));
      if (w.value) return SendResult<T>::closed(std::move(*w.value));
      return SendResult<T>::sent();
    }

   private:
    friend Base;
    // await_suspend's work (sync/queued_awaiter.h): true when queued.
    template <detail::WeftPromise P>
    bool try_suspend(std::coroutine_handle<P> h) {
      return this->owner_->send_or_queue(this->waiter_, h);
    }
  };

  class [[nodiscard]] RecvAwaiter
      : public detail::QueuedAwaiter<RecvAwaiter, detail::ChannelCore<T>, detail::RecvWaiter> {
    using Base = detail::QueuedAwaiter<RecvAwaiter, detail::ChannelCore<T>, detail::RecvWaiter>;

   public:
    explicit RecvAwaiter(detail::ChannelCore<T>* core) noexcept : Base(core) {}
    // Movable until it is awaited, as SendAwaiter.
    RecvAwaiter(RecvAwaiter&& o) : Base(o.owner_) { check_unawaited(o.waiter_); }

    bool await_ready() const noexcept { return false; }
    absl::StatusOr<T> await_resume() {
      // Idle: found the channel closed and drained without waiting.
      if (!this->finish_wait("channel recv")) return recv_closed_status();
      // Either call drops the node's reference to the core (even if T's
      // move throws), which may free it if the Channel is gone.
      if (this->waiter_.reserved) return this->owner_->take_reserved();
      this->owner_->release_notified();
      return recv_closed_status();
    }

   private:
    friend Base;
    // await_suspend's work (sync/queued_awaiter.h): true when queued.
    template <detail::WeftPromise P>
    bool try_suspend(std::coroutine_handle<P> h) {
      return this->owner_->recv_or_queue(this->waiter_, h);
    }
  };

  // Misuse: moving an awaiter whose node is queued or notified would strand
  // the node in the channel's queue.
  static void check_unawaited(const detail::Waiter& w) {
    if (w.load_state() != detail::WaiterState::kIdle) {
      throw std::logic_error("weft: a channel send/recv awaiter was moved while it was awaited");
    }
  }

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
  detail::ChannelCore<T>* core_;
};

}  // namespace weft

#endif  // WEFT_SYNC_CHANNEL_H_
