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

}  // namespace weft

#endif  // WEFT_SYNC_TIMEOUT_H_
