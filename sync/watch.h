// watch<T>(initial): the latest value, and a wait for the next change.
//
// What it is for: state that many tasks follow but only the newest value
// matters (a configuration, a connection state, "shutting down"): readers
// never see a backlog, only the current value (tokio's watch channel).
//
// Requires: T is copy-constructible (get() returns a copy). Handles outlive
// the calls made on them.
//
// Guarantees:
// - send(v) replaces the value and never waits; it bumps a version.
// - rx.changed() completes once the value has a version this receiver has
//   not seen (at once if there is one), and marks it seen; OUT_OF_RANGE
//   when every sender is gone and nothing new is left to see. Several
//   sends between two changed() count as one change. Cancel-safe: a
//   changed() whose task is cancelled marks nothing seen.
// - rx.get() is a copy of the current value; rx.get_and_mark_seen() also
//   marks it seen. A receiver made by subscribe() or by the
//   constructor function has seen the value current at that moment.
// - Senders and receivers are copyable; a copied receiver has seen what
//   its original had.
//
// Memory ordering: a send happens-before the changed() / get() that
// observes it (both take the channel's mutex).
//
// Example:
//   auto [tx, rx] = weft::watch<Config>(load());
//   // a task:                           // elsewhere:
//   while ((co_await rx.changed()).ok())  tx.send(reload());
//     apply(rx.get());
#ifndef WEFT_SYNC_WATCH_H_
#define WEFT_SYNC_WATCH_H_

#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "sync/channel_result.h"
#include "sync/waiter.h"

namespace weft {

template <class T>
class WatchSender;
template <class T>
class WatchReceiver;

namespace detail {

template <class T>
class WatchCore {
 public:
  explicit WatchCore(T initial) : value_(std::move(initial)) {}

  void add_sender() {
    std::lock_guard<std::mutex> lock(mu_);
    ++senders_;
  }
  void drop_sender() {
    WakeList wakes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--senders_ == 0) {
        closed_ = true;
        notify_all_locked(wakes);
      }
    }
    wakes.wake_all();
  }
  void send(T v) {
    WakeList wakes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      value_ = std::move(v);
      ++version_;
      notify_all_locked(wakes);
    }
    wakes.wake_all();
  }
  uint64_t version() {
    std::lock_guard<std::mutex> lock(mu_);
    return version_;
  }
  T get(uint64_t* seen) {
    std::lock_guard<std::mutex> lock(mu_);
    if (seen) *seen = version_;
    return value_;
  }
  bool ready(uint64_t seen) {
    std::lock_guard<std::mutex> lock(mu_);
    return version_ != seen || closed_;
  }
  template <class P>
  bool queue_unless_ready(Waiter& w, uint64_t seen, std::coroutine_handle<P> h) {
    std::lock_guard<std::mutex> lock(mu_);
    if (version_ != seen || closed_) return false;
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
  // Completes a changed(): marks the current version seen, or reports
  // closed; UNAVAILABLE if there is neither (a spurious resume).
  absl::Status mark_changed(uint64_t* seen) {
    std::lock_guard<std::mutex> lock(mu_);
    if (version_ != *seen) {
      *seen = version_;
      return absl::OkStatus();
    }
    if (closed_) return absl::OutOfRangeError("weft: every watch sender is gone");
    return absl::UnavailableError("weft: no change");
  }

 private:
  void notify_all_locked(WakeList& wakes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (Waiter* w = waiting_.pop_front()) wakes.push(WaiterQueue::notify(w));
  }

  std::mutex mu_;
  T value_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  WaiterQueue waiting_ ABSL_GUARDED_BY(mu_);
  size_t senders_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace detail

template <class T>
class WatchSender {
 public:
  WatchSender(const WatchSender& o) : core_(o.core_) {
    if (core_) core_->add_sender();
  }
  WatchSender(WatchSender&&) noexcept = default;
  WatchSender& operator=(WatchSender o) noexcept {
    std::swap(core_, o.core_);
    return *this;
  }
  ~WatchSender() {
    if (core_) core_->drop_sender();
  }

  // Replaces the value and wakes every changed() waiting.
  void send(T value) { core()->send(std::move(value)); }
  // A receiver that has seen the current value.
  WatchReceiver<T> subscribe() { return WatchReceiver<T>(checked()); }

 private:
  template <class U>
  friend std::pair<WatchSender<U>, WatchReceiver<U>> watch(U);
  explicit WatchSender(std::shared_ptr<detail::WatchCore<T>> core) : core_(std::move(core)) {
    core_->add_sender();
  }
  const std::shared_ptr<detail::WatchCore<T>>& checked() const {
    if (!core_) throw std::logic_error("weft: use of a moved-from weft::WatchSender");
    return core_;
  }
  detail::WatchCore<T>* core() const { return checked().get(); }
  std::shared_ptr<detail::WatchCore<T>> core_;
};

template <class T>
class WatchReceiver {
 public:
  WatchReceiver(const WatchReceiver&) = default;
  WatchReceiver(WatchReceiver&&) noexcept = default;
  WatchReceiver& operator=(const WatchReceiver&) = default;
  WatchReceiver& operator=(WatchReceiver&&) noexcept = default;

  class [[nodiscard]] ChangedAwaiter {
   public:
    explicit ChangedAwaiter(WatchReceiver* self) noexcept : self_(self) {}
    ChangedAwaiter(ChangedAwaiter&& o) noexcept : self_(o.self_) {}  // only before it is awaited
    ChangedAwaiter(const ChangedAwaiter&) = delete;
    ChangedAwaiter& operator=(const ChangedAwaiter&) = delete;
    ~ChangedAwaiter() {
      if (waiter_.load_state() != detail::WaiterState::kIdle) self_->core()->withdraw(waiter_);
    }
    bool await_ready() {
      return detail::coop_ready([this] { return self_->core()->ready(self_->seen_); });
    }
    template <detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (self_->core()->queue_unless_ready(waiter_, self_->seen_, h)) return true;
      return detail::coop_yield(h);
    }
    absl::Status await_resume() {
      detail::consume_notified(waiter_, "watch changed");
      absl::Status s = self_->core()->mark_changed(&self_->seen_);
      if (absl::IsUnavailable(s)) {
        throw std::logic_error("weft: a watch changed() resumed with no change");
      }
      return s;
    }

   private:
    WatchReceiver* self_;
    detail::Waiter waiter_;
  };

  // OK once there is a value this receiver has not seen (marked seen now);
  // OUT_OF_RANGE when every sender is gone and nothing is new.
  ChangedAwaiter changed() {
    core();
    return ChangedAwaiter(this);
  }
  // The current value (a copy).
  T get() const { return core()->get(nullptr); }
  // The current value, now marked seen.
  T get_and_mark_seen() { return core()->get(&seen_); }
  // Whether the current value is one this receiver has not seen.
  bool has_changed() const { return core()->version() != seen_; }

 private:
  friend class WatchSender<T>;
  template <class U>
  friend std::pair<WatchSender<U>, WatchReceiver<U>> watch(U);
  explicit WatchReceiver(std::shared_ptr<detail::WatchCore<T>> core)
      : core_(std::move(core)), seen_(core_->version()) {}
  detail::WatchCore<T>* core() const {
    if (!core_) throw std::logic_error("weft: use of a moved-from weft::WatchReceiver");
    return core_.get();
  }

  std::shared_ptr<detail::WatchCore<T>> core_;
  uint64_t seen_ = 0;  // the version this receiver has seen
};

// A watch channel holding `initial`.
template <class T>
std::pair<WatchSender<T>, WatchReceiver<T>> watch(T initial) {
  auto core = std::make_shared<detail::WatchCore<T>>(std::move(initial));
  WatchReceiver<T> rx(core);
  return {WatchSender<T>(std::move(core)), std::move(rx)};
}

}  // namespace weft

#endif  // WEFT_SYNC_WATCH_H_
