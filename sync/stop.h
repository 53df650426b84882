// stop_requested(token) and cancel_on_stop(token, task): cooperative
// cancellation through std::stop_token, beside weft's cancel-on-destroy.
//
// What it is for: code that already signals shutdown with a
// std::stop_source (a std::jthread's, a server's) can stop weft tasks with
// it. A task that wants to observe the request awaits stop_requested(token)
// (typically raced against its work with when_any); cancel_on_stop() does
// that for any task: it runs the task, and if a stop is requested first, the
// task is cancelled (its frame destroyed, as if its JoinHandle were dropped).
//
// Requires: only a std::stop_token (it shares the stop state with its
// source). A token that can never be stopped (!stop_possible()) makes
// stop_requested() wait until the awaiting task is cancelled.
//
// Guarantees:
// - stop_requested(token) completes at once if stop was already requested,
//   else when request_stop() is called, from any thread: a std::stop_callback
//   wakes the task. The callback is deregistered when the awaiter goes (on
//   completion or cancellation; if it is running on another thread right
//   then, deregistration waits for it, as std::stop_callback specifies).
// - cancel_on_stop(token, task) returns the task's result, or std::nullopt
//   (false for Task<void>) if the stop came first. Either way nothing of the
//   task is left running when it returns.
// - Works under block_on, LocalExecutor and Executor.
//
// Memory ordering: what the requesting thread wrote before request_stop()
// is visible after stop_requested() completes (the waker's guarantee).
//
// Example:
//   std::stop_source stop;
//   std::optional<int> r = co_await weft::cancel_on_stop(stop.get_token(), compute());
//   // elsewhere, any thread: stop.request_stop();
#ifndef WEFT_SYNC_STOP_H_
#define WEFT_SYNC_STOP_H_

#include <coroutine>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <variant>

#include "executor/coop.h"
#include "executor/task.h"
#include "executor/waker.h"
#include "sync/when_any.h"

namespace weft {

class [[nodiscard]] StopAwaiter {
 public:
  explicit StopAwaiter(std::stop_token token) noexcept : token_(std::move(token)) {}
  StopAwaiter(const StopAwaiter&) = delete;
  StopAwaiter& operator=(const StopAwaiter&) = delete;

  // A stop already requested completes at once and counts against the
  // cooperative budget (executor/coop.h); with none left, yield first.
  bool await_ready() const noexcept {
    return detail::coop_ready([this] { return token_.stop_requested(); });
  }
  template <detail::WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if (token_.stop_requested()) return detail::coop_yield(h);
    waker_ = current_waker(h);
    // Runs Wake right here if stop was requested meanwhile; the task is
    // running, so that wake only makes it run again once it has suspended.
    callback_.emplace(token_, Wake{this});
    return true;
  }
  void await_resume() const {
    // Only the stop callback wakes this wait (a Waker kept from an earlier
    // suspension is inert, waker.h); anything else is an awaiter of the
    // same run that left this task's Waker registered.
    if (!token_.stop_requested()) {
      throw std::logic_error(
          "weft: a task waiting for a stop request was resumed before stop was requested: an "
          "awaiter that did not suspend left this task's Waker registered");
    }
  }

 private:
  struct Wake {
    StopAwaiter* self;
    // Called once, by request_stop() (any thread) or by the constructor.
    void operator()() noexcept { std::move(self->waker_).wake(); }
  };

  std::stop_token token_;
  // Written before the callback is registered, which orders it before the
  // callback's read.
  Waker waker_;
  // Declared after waker_: destroyed (deregistered) first.
  std::optional<std::stop_callback<Wake>> callback_;
};

// Completes when stop is requested on `token`.
inline StopAwaiter stop_requested(std::stop_token token) noexcept {
  return StopAwaiter(std::move(token));
}

namespace detail {
inline Task<void> wait_for_stop(std::stop_token token) { co_await stop_requested(std::move(token)); }
}  // namespace detail

// Runs `task`; cancels it if stop is requested on `token` first.
template <class T>
  requires(!std::is_reference_v<T>)
Task<std::conditional_t<std::is_void_v<T>, bool, std::optional<T>>> cancel_on_stop(
    std::stop_token token, Task<T> task) {
  auto r = co_await when_any(std::move(task), detail::wait_for_stop(std::move(token)));
  if constexpr (std::is_void_v<T>) {
    co_return r.index() == 0;
  } else {
    if (r.index() == 1) co_return std::nullopt;
    co_return std::optional<T>(std::move(std::get<0>(r)));
  }
}

}  // namespace weft

#endif  // WEFT_SYNC_STOP_H_
