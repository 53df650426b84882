// broadcast<T>(capacity): every receiver sees every value.
//
// What it is for: fan-out (a chat room, a configuration push, a shutdown
// notice): one or more senders, many receivers, each receiver gets each
// value sent after it subscribed (tokio's broadcast channel).
//
// Requires: T is copy-constructible (each receiver gets its own copy);
// capacity >= 1. A handle outlives the calls made on it (a task awaiting
// rx.recv() holds rx).
//
// Guarantees:
// - send() never waits: the channel keeps the last `capacity` values. A
//   receiver that falls further behind loses the oldest ones: its next
//   recv() fails with DATA_LOSS ("lagged"), and rx.missed() says how many
//   values it skipped; the recv() after that gives the oldest value still
//   kept. weft::is_lagged(status) tells this case apart.
// - Values reach every receiver in the order they were sent (one order for
//   all senders: the order in which send() took the lock).
// - The channel closes when the last sender goes (receivers then get what
//   they have not seen yet, then OUT_OF_RANGE) or on close(). A send with no
//   receiver left fails (FAILED_PRECONDITION) and hands the value back.
// - Cancel-safe: a recv() whose task is cancelled consumes nothing; the
//   receiver's position moves only when a recv() returns.
// - Senders and receivers are copyable. A copied receiver starts where its
//   original is; tx.subscribe() makes one that starts at the next value sent.
//
// Memory ordering: a send happens-before every recv that returns its value
// (both take the channel's mutex).
//
// Example:
//   auto [tx, rx] = weft::broadcast<std::string>(64);
//   auto rx2 = tx.subscribe();
//   tx.send("hello");                        // both receivers get it
//   absl::StatusOr<std::string> m = co_await rx2.recv();
#ifndef WEFT_SYNC_BROADCAST_H_
#define WEFT_SYNC_BROADCAST_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "sync/channel_result.h"
#include "sync/waiter.h"

namespace weft {

// Whether a broadcast recv() failed because the receiver lagged (the
// values it missed are counted by BroadcastReceiver::missed()).
inline bool is_lagged(const absl::Status& s) noexcept { return absl::IsDataLoss(s); }

template <class T>
class BroadcastSender;
template <class T>
class BroadcastReceiver;

namespace detail {

template <class T>
class BroadcastCore {
 public:
  explicit BroadcastCore(size_t capacity) : ring_(capacity) {}

  // --- handles ----------------------------------------------------------
  void add_sender() {
    std::lock_guard<std::mutex> lock(mu_);
    ++senders_;
  }
  void drop_sender() {
    WakeList wakes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--senders_ == 0) close_locked(wakes);
    }
    wakes.wake_all();
  }
  // A new receiver's position: the next value to be sent.
  uint64_t add_receiver() {
    std::lock_guard<std::mutex> lock(mu_);
    ++receivers_;
    return tail_;
  }
  void drop_receiver() {
    std::lock_guard<std::mutex> lock(mu_);
    --receivers_;
  }

  // --- send ---------------------------------------------------------------
  SendResult<T> send(T value) {
    WakeList wakes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_ || receivers_ == 0) return SendResult<T>::closed(std::move(value));
      ring_[tail_ % ring_.size()].emplace(std::move(value));  // overwrites the oldest
      ++tail_;
      while (Waiter* w = waiting_.pop_front()) wakes.push(WaiterQueue::notify(w));
    }
    wakes.wake_all();
    return SendResult<T>::sent();
  }
  bool close() {
    WakeList wakes;
    bool now;
    {
      std::lock_guard<std::mutex> lock(mu_);
      now = !closed_;
      close_locked(wakes);
    }
    wakes.wake_all();
    return now;
  }
  size_t receiver_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return receivers_;
  }

  // --- receive --------------------------------------------------------------
  // Whether a recv at `next` can complete now (a value, a lag, or closed).
  bool ready(uint64_t next) {
    std::lock_guard<std::mutex> lock(mu_);
    return next < tail_ || closed_;
  }
  // Queues `w` unless a recv at `next` can complete now. True when queued.
  template <class P>
  bool queue_unless_ready(Waiter& w, uint64_t next, std::coroutine_handle<P> h) {
    std::lock_guard<std::mutex> lock(mu_);
    if (next < tail_ || closed_) return false;
    w.waker = current_waker(h);
    waiting_.push_back(&w);
    return true;
  }
  void withdraw(Waiter& w) {
    std::lock_guard<std::mutex> lock(mu_);
    // relaxed: leaves kQueued only under mu_, which we hold.
    if (w.state.load(std::memory_order_relaxed) == WaiterState::kQueued) waiting_.cancel(&w);
    w.mark_consumed();
  }
  // The value at `*next` (advancing it), a lag (moving it to the oldest
  // value kept, `*missed` set), "closed", or UNAVAILABLE (nothing yet).
  absl::StatusOr<T> take(uint64_t* next, uint64_t* missed) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t oldest = tail_ > ring_.size() ? tail_ - ring_.size() : 0;
    if (*next < oldest) {
      *missed = oldest - *next;
      *next = oldest;
      return absl::DataLossError(
          absl::StrCat("weft: broadcast receiver lagged: ", *missed, " values missed"));
    }
    if (*next < tail_) {
      absl::StatusOr<T> out(*ring_[*next % ring_.size()]);  // a copy: the others read it too
      ++*next;
      return out;
    }
    if (closed_) return recv_closed_status();
    return recv_empty_status();
  }

 private:
  void close_locked(WakeList& wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    closed_ = true;
    while (Waiter* w = waiting_.pop_front()) wakes.push(WaiterQueue::notify(w));
  }

  std::mutex mu_;
  // Value number s lives in ring_[s % capacity] while s >= tail_ - capacity.
  std::vector<std::optional<T>> ring_ ABSL_GUARDED_BY(mu_);
  uint64_t tail_ ABSL_GUARDED_BY(mu_) = 0;  // the number of the next value sent
  WaiterQueue waiting_ ABSL_GUARDED_BY(mu_);  // receivers at tail_, waiting
  size_t senders_ ABSL_GUARDED_BY(mu_) = 0;
  size_t receivers_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace detail

template <class T>
class BroadcastSender {
 public:
  BroadcastSender(const BroadcastSender& o) : core_(o.core_) {
    if (core_) core_->add_sender();
  }
  BroadcastSender(BroadcastSender&& o) noexcept = default;
  BroadcastSender& operator=(BroadcastSender o) noexcept {
    std::swap(core_, o.core_);
    return *this;
  }
  ~BroadcastSender() {
    if (core_) core_->drop_sender();
  }

  // Sends to every receiver; never waits. Fails (value back) once closed or
  // when no receiver is left.
  SendResult<T> send(T value) { return core()->send(std::move(value)); }
  // A receiver that gets the values sent from now on.
  BroadcastReceiver<T> subscribe() { return BroadcastReceiver<T>(core_checked()); }
  bool close() { return core()->close(); }
  size_t receiver_count() { return core()->receiver_count(); }

 private:
  template <class U>
  friend std::pair<BroadcastSender<U>, BroadcastReceiver<U>> broadcast(size_t);
  explicit BroadcastSender(std::shared_ptr<detail::BroadcastCore<T>> core) : core_(std::move(core)) {
    core_->add_sender();
  }
  detail::BroadcastCore<T>* core() const { return core_checked().get(); }
  const std::shared_ptr<detail::BroadcastCore<T>>& core_checked() const {
    if (!core_) throw std::logic_error("weft: use of a moved-from weft::BroadcastSender");
    return core_;
  }
  std::shared_ptr<detail::BroadcastCore<T>> core_;
};

template <class T>
class BroadcastReceiver {
 public:
  BroadcastReceiver(const BroadcastReceiver& o) : core_(o.core_), next_(o.next_) {
    if (core_) core_->add_receiver();
  }
  BroadcastReceiver(BroadcastReceiver&& o) noexcept = default;
  BroadcastReceiver& operator=(BroadcastReceiver o) noexcept {
    std::swap(core_, o.core_);
    std::swap(next_, o.next_);
    std::swap(missed_, o.missed_);
    return *this;
  }
  ~BroadcastReceiver() {
    if (core_) core_->drop_receiver();
  }

  class [[nodiscard]] RecvAwaiter {
   public:
    explicit RecvAwaiter(BroadcastReceiver* self) noexcept : self_(self) {}
    RecvAwaiter(RecvAwaiter&& o) noexcept : self_(o.self_) {}  // only before it is awaited
    RecvAwaiter(const RecvAwaiter&) = delete;
    RecvAwaiter& operator=(const RecvAwaiter&) = delete;
    ~RecvAwaiter() {
      if (waiter_.load_state() != detail::WaiterState::kIdle) self_->core()->withdraw(waiter_);
    }
    // A value already there counts against the cooperative budget.
    bool await_ready() {
      return detail::coop_ready([this] { return self_->core()->ready(self_->next_); });
    }
    template <detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (self_->core()->queue_unless_ready(waiter_, self_->next_, h)) return true;
      return detail::coop_yield(h);  // ready now: counts as a completed operation
    }
    absl::StatusOr<T> await_resume() {
      detail::consume_notified(waiter_, "broadcast recv");
      absl::StatusOr<T> r = self_->core()->take(&self_->next_, &self_->missed_);
      if (absl::IsUnavailable(r.status())) {
        throw std::logic_error("weft: a broadcast recv resumed with nothing to receive");
      }
      return r;
    }

   private:
    BroadcastReceiver* self_;
    detail::Waiter waiter_;
  };

  // The next value; DATA_LOSS if this receiver lagged (see missed()),
  // OUT_OF_RANGE once closed and everything seen. Cancel-safe.
  RecvAwaiter recv() {
    core();
    return RecvAwaiter(this);
  }
  // Never waits: as recv(), or UNAVAILABLE when there is nothing new.
  absl::StatusOr<T> try_recv() { return core()->take(&next_, &missed_); }
  // How many values the last lag report skipped.
  uint64_t missed() const noexcept { return missed_; }

 private:
  friend class BroadcastSender<T>;
  template <class U>
  friend std::pair<BroadcastSender<U>, BroadcastReceiver<U>> broadcast(size_t);
  explicit BroadcastReceiver(std::shared_ptr<detail::BroadcastCore<T>> core)
      : core_(std::move(core)), next_(core_->add_receiver()) {}
  detail::BroadcastCore<T>* core() const {
    if (!core_) throw std::logic_error("weft: use of a moved-from weft::BroadcastReceiver");
    return core_.get();
  }

  std::shared_ptr<detail::BroadcastCore<T>> core_;
  uint64_t next_ = 0;    // the number of the next value to receive
  uint64_t missed_ = 0;  // the last lag
};

// A broadcast channel keeping the last `capacity` (>= 1) values.
template <class T>
std::pair<BroadcastSender<T>, BroadcastReceiver<T>> broadcast(size_t capacity) {
  if (capacity == 0) throw std::invalid_argument("weft: a broadcast channel needs capacity >= 1");
  auto core = std::make_shared<detail::BroadcastCore<T>>(capacity);
  BroadcastReceiver<T> rx(core);
  return {BroadcastSender<T>(std::move(core)), std::move(rx)};
}

}  // namespace weft

#endif  // WEFT_SYNC_BROADCAST_H_
