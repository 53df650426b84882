// timeout: await a task, but give up after a deadline.
//
// What it is for: bounding how long a task may take (a request, a connect,
// a receive), without the task knowing about deadlines.
//
// Requires: a fresh task (never awaited or spawned); T is a value type or
// void. Works under any executor: it is when_any (when_any.h) of the task
// and a reactor timer, run on the awaiting task's thread.
//
// Guarantees: returns the task's result if it finishes first (rethrowing
// its exception), else a DeadlineExceeded status; in that case the task has
// been cancelled and its frame destroyed (with everything it held) before
// timeout returns. The timer never fires early (reactor/timer.h). The
// duration saturates (base/deadline.h): duration::max() means no timeout,
// a negative one times out at once (unless the task is ready at once).
//
// Example:
//   absl::StatusOr<std::string> r = co_await weft::timeout(500ms, fetch(url));
//   if (absl::IsDeadlineExceeded(r.status())) { ... }
#ifndef WEFT_SYNC_TIMEOUT_H_
#define WEFT_SYNC_TIMEOUT_H_

#include <chrono>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/deadline.h"
#include "executor/task.h"
#include "reactor/timer.h"
#include "sync/when_any.h"

namespace weft {

namespace detail {
inline Task<void> sleep_task(Clock::time_point deadline) { co_await sleep_until(deadline); }
inline absl::Status deadline_status() {
  return absl::DeadlineExceededError("weft: timeout: the task did not finish before its deadline");
}
}  // namespace detail

template <class T>
  requires(!std::is_reference_v<T>)
Task<std::conditional_t<std::is_void_v<T>, absl::Status, absl::StatusOr<T>>> timeout_at(
    Clock::time_point deadline, Task<T> task) {
  auto winner = co_await when_any(std::move(task), detail::sleep_task(deadline));
  if (winner.index() == 1) co_return detail::deadline_status();
  if constexpr (std::is_void_v<T>) {
    co_return absl::OkStatus();
  } else {
    co_return std::move(std::get<0>(winner));
  }
}

template <class T, class Rep, class Period>
  requires(!std::is_reference_v<T>)
auto timeout(std::chrono::duration<Rep, Period> d, Task<T> task) {
  return timeout_at(detail::deadline_after(d), std::move(task));
}

// timeout / timeout_at over any awaitable (sync/awaitable.h says how it is
// held): `absl::StatusOr<absl::StatusOr<int>> r = co_await
// weft::timeout(100ms, ch.recv());`. A receive that times out takes no item.
template <class A>
class [[nodiscard]] Timeout {
  using Inner = typename detail::AwaitArg<A>::Result;
  static_assert(!std::is_reference_v<Inner>,
                "weft::timeout of an awaitable that gives a reference is not supported");

 public:
  using Result = std::conditional_t<std::is_void_v<Inner>, absl::Status, absl::StatusOr<Inner>>;
  Timeout(Clock::time_point deadline, A&& a) : deadline_(deadline), arg_(std::forward<A>(a)) {}
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;
  // Rvalue only: `co_await weft::timeout(...)` in one expression.
  detail::OwningTaskAwaiter<Result> operator co_await() && {
    return detail::OwningTaskAwaiter<Result>(timeout_at(deadline_, arg_.child()));
  }

 private:
  Clock::time_point deadline_;
  detail::AwaitArg<A> arg_;
};

template <class A>
  requires detail::GenericAwaitables<A>
Timeout<A> timeout_at(Clock::time_point deadline, A&& a) {
  return Timeout<A>(deadline, std::forward<A>(a));
}

template <class Rep, class Period, class A>
  requires detail::GenericAwaitables<A>
Timeout<A> timeout(std::chrono::duration<Rep, Period> d, A&& a) {
  return Timeout<A>(detail::deadline_after(d), std::forward<A>(a));
}

}  // namespace weft

#endif  // WEFT_SYNC_TIMEOUT_H_
