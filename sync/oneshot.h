// oneshot<T>(): a channel for exactly one value, from one sender to one
// receiver.
//
// What it is for: handing one result from wherever it is produced (another
// task, a thread, a callback) to the task that waits for it, e.g. a reply
// in a request/response protocol.
//
// Requires: T is move-constructible. Each end is used by one owner at a time
// (move it to hand it over). The receiver outlives any awaiter it returned.
//
// Guarantees:
// - `sender.send(v)` never waits. It fails (FAILED_PRECONDITION, value
//   back) when the receiver is gone. Sending twice throws std::logic_error.
// - `co_await receiver` returns the value, or OUT_OF_RANGE when the sender
//   went away without sending. Receiving a value twice throws
//   std::logic_error. `try_recv()` never waits (UNAVAILABLE: nothing yet).
// - A receiving task cancelled after the value arrived but before it
//   resumed leaves the value in the receiver: awaiting it again gets it.
// - A T whose move constructor throws: a receive whose move of the value
//   throws passes the exception to the receiver and leaves the value in
//   place, still not received (the next receive may take it). A send whose
//   move throws passes the exception to the sender and leaves the sender
//   unused (it may send again; if it goes away, the receiver gets
//   OUT_OF_RANGE); the value is destroyed with the exception. Either way
//   both ends keep exactly their references.
// - Works under block_on, LocalExecutor and Executor, from any thread.
//
// Memory ordering: send() happens-before the receive that returns the value
// (both take the shared state's mutex).
//
// Example:
//   auto [tx, rx] = weft::oneshot<int>();
//   std::thread worker([tx = std::move(tx)]() mutable { (void)tx.send(42); });
//   absl::StatusOr<int> v = co_await rx;   // 42
#ifndef WEFT_SYNC_ONESHOT_H_
#define WEFT_SYNC_ONESHOT_H_

#include <atomic>
#include <coroutine>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "executor/waker.h"
#include "sync/channel_result.h"
#include "sync/waiter.h"

namespace weft {

namespace detail {

// Shared by the two ends; freed when both are gone.
template <class T>
class OneshotState {
 public:
  OneshotState() = default;
  OneshotState(const OneshotState&) = delete;
  OneshotState& operator=(const OneshotState&) = delete;

  void release() noexcept {
    // acq_rel: release orders this end's uses before the delete; acquire
    // (the last end) sees the other end's uses.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  SendResult<T> send(T v) {
    Waker wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (receiver_gone_) return SendResult<T>::closed(std::move(v));
      value_.emplace(std::move(v));
      wake = notify_locked();
    }
    std::move(wake).wake();
    return SendResult<T>::sent();
  }
  void sender_gone() noexcept {
    Waker wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      sender_gone_ = true;
      wake = notify_locked();
    }
    std::move(wake).wake();
  }
  void receiver_gone() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    receiver_gone_ = true;
  }
  bool receiver_is_gone() const {
    std::lock_guard<std::mutex> lock(mu_);
    return receiver_gone_;
  }

  // Returns true when `w` was queued; false when there is an outcome now.
  template <class P>
  bool ready_or_queue(Waiter& w, std::coroutine_handle<P> h) {
    std::lock_guard<std::mutex> lock(mu_);
    if (value_ || sender_gone_ || taken_) return false;
    w.waker = current_waker(h);
    waiting_.push_back(&w);
    return true;
  }
  void cancel(Waiter& w) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    // relaxed: the state leaves kQueued only under mu_, which we hold.
    if (w.state.load(std::memory_order_relaxed) == WaiterState::kQueued) waiting_.cancel(&w);
  }

  // The value, UNAVAILABLE (nothing yet) or OUT_OF_RANGE (sender gone).
  // The value is moved once, into the returned object; if that move
  // throws, it stays here, not taken.
  absl::StatusOr<T> take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (taken_) throw std::logic_error("weft: a oneshot value was received twice");
    if (!value_) return sender_gone_ ? recv_closed_status() : recv_empty_status();
    MarkTaken mark(this);  // destroyed after the move below, still under mu_
    return absl::StatusOr<T>(std::move(*value_));
  }

 private:
  ~OneshotState() = default;

  // Marks the value taken once take()'s move of it succeeded; does nothing
  // when that move threw (RAII, so the return statement's move is covered).
  class MarkTaken {
   public:
    explicit MarkTaken(OneshotState* s) : s_(s), exceptions_(std::uncaught_exceptions()) {}
    MarkTaken(const MarkTaken&) = delete;
    MarkTaken& operator=(const MarkTaken&) = delete;
    ~MarkTaken() {
      if (std::uncaught_exceptions() != exceptions_) return;
      s_->taken_ = true;
      s_->value_.reset();
    }

   private:
    OneshotState* s_;
    const int exceptions_;  // in flight when the take began
  };

  Waker notify_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Waiter* w = waiting_.pop_front();
    return w ? WaiterQueue::notify(w) : Waker();
  }

  mutable std::mutex mu_;
  std::optional<T> value_ ABSL_GUARDED_BY(mu_);
  bool taken_ ABSL_GUARDED_BY(mu_) = false;
  bool sender_gone_ ABSL_GUARDED_BY(mu_) = false;
  bool receiver_gone_ ABSL_GUARDED_BY(mu_) = false;
  WaiterQueue waiting_ ABSL_GUARDED_BY(mu_);  // the receiver's awaiter, if any
  std::atomic<int> refs_{2};                  // the two ends
};

}  // namespace detail

template <class T>
class OneshotSender {
 public:
  OneshotSender() noexcept = default;
  explicit OneshotSender(detail::OneshotState<T>* s) noexcept : state_(s) {}
  OneshotSender(OneshotSender&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  OneshotSender& operator=(OneshotSender&& o) noexcept {
    if (this != &o) {
      reset();
      state_ = std::exchange(o.state_, nullptr);
    }
    return *this;
  }
  // Without a send, the receiver then gets OUT_OF_RANGE.
  ~OneshotSender() { reset(); }

  // Sends the value; the sender is used up. Closed (value back) when the
  // receiver is gone.
  SendResult<T> send(T value) {
    if (!state_) throw std::logic_error("weft: send on a used or moved-from OneshotSender");
    // If T's move throws in here, the sender keeps its state: still unused.
    SendResult<T> r = state_->send(std::move(value));
    std::exchange(state_, nullptr)->release();
    return r;
  }
  // Whether the receiver is gone (a send would fail).
  bool is_closed() const { return !state_ || state_->receiver_is_gone(); }

 private:
  void reset() noexcept {
    if (auto* s = std::exchange(state_, nullptr)) {
      s->sender_gone();
      s->release();
    }
  }
  detail::OneshotState<T>* state_ = nullptr;
};

template <class T>
class OneshotReceiver {
 public:
  OneshotReceiver() noexcept = default;
  explicit OneshotReceiver(detail::OneshotState<T>* s) noexcept : state_(s) {}
  OneshotReceiver(OneshotReceiver&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  OneshotReceiver& operator=(OneshotReceiver&& o) noexcept {
    if (this != &o) {
      reset();
      state_ = std::exchange(o.state_, nullptr);
    }
    return *this;
  }
  ~OneshotReceiver() { reset(); }

  class [[nodiscard]] Awaiter {
   public:
    explicit Awaiter(detail::OneshotState<T>* s) : state_(s) {
      if (!s) throw std::logic_error("weft: co_await on a moved-from OneshotReceiver");
    }
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      // A notified awaiter has nothing to pass on: the value stays in the
      // shared state until await_resume takes it.
      if (waiter_.load_state() == detail::WaiterState::kQueued) state_->cancel(waiter_);
    }
    bool await_ready() const noexcept { return false; }
    template <detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (state_->ready_or_queue(waiter_, h)) return true;
      // An outcome is there, and stays: take it now, or after a yield if
      // the cooperative budget is spent (executor/coop.h).
      return detail::coop_yield(h);
    }
    absl::StatusOr<T> await_resume() {
      switch (waiter_.load_state()) {
        case detail::WaiterState::kQueued:
          detail::resumed_while_queued("oneshot");
        case detail::WaiterState::kNotified:
          waiter_.mark_consumed();
          break;
        case detail::WaiterState::kIdle:
          break;
      }
      return state_->take();
    }

   private:
    detail::OneshotState<T>* state_;
    detail::Waiter waiter_;
  };
  // The value, or OUT_OF_RANGE if the sender went away without sending.
  Awaiter operator co_await() noexcept(false) { return Awaiter(state_); }

  // The value, UNAVAILABLE (not sent yet) or OUT_OF_RANGE (sender gone).
  absl::StatusOr<T> try_recv() {
    if (!state_) throw std::logic_error("weft: try_recv on a moved-from OneshotReceiver");
    return state_->take();
  }

 private:
  void reset() noexcept {
    if (auto* s = std::exchange(state_, nullptr)) {
      s->receiver_gone();
      s->release();
    }
  }
  detail::OneshotState<T>* state_ = nullptr;
};

// A connected sender/receiver pair.
template <class T>
std::pair<OneshotSender<T>, OneshotReceiver<T>> oneshot() {
  auto* s = new detail::OneshotState<T>();
  return {OneshotSender<T>(s), OneshotReceiver<T>(s)};
}

}  // namespace weft

#endif  // WEFT_SYNC_ONESHOT_H_
